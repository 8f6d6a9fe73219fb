//! Background threads (the rate history, forecasting and its refits) run at
//! a lower scheduling priority than the switches' thread: when every core is
//! busy, a PACKET_IN does not wait behind a database write or a model fit,
//! and the background work takes the time the switches leave.

/// The nice value of background threads.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority (on Linux the nice value
/// belongs to the thread, not the process); elsewhere does nothing.
pub fn background() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority takes and returns plain integers; a failure (no
    // permission) only leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, this_thread(), BACKGROUND_NICE);
    }
}

/// The calling thread's id.
#[cfg(target_os = "linux")]
fn this_thread() -> libc::id_t {
    // SAFETY: gettid takes nothing and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::id_t }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn background_threads_are_niced_and_others_are_not() {
        // SAFETY: getpriority takes and returns plain integers.
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, super::this_thread()) };
        let before = nice();
        let inside = std::thread::spawn(move || {
            super::background();
            nice()
        })
        .join()
        .unwrap();
        assert_eq!(inside, (before + super::BACKGROUND_NICE).min(19));
        assert_eq!(nice(), before, "only the calling thread changes");
    }
}
