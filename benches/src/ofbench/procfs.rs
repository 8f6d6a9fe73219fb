//! CPU time and memory of this process and of the controller under test.

use anyhow::{bail, Context, Result};
use std::time::Duration;

/// User plus system CPU time this process has used (all threads).
pub fn own_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// User plus system CPU time of process `pid`, from /proc/PID/stat.
pub fn cpu_of(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    cpu_from_stat(&stat)
}

/// utime + stime (fields 14 and 15) of a /proc/PID/stat line.
fn cpu_from_stat(stat: &str) -> Result<Duration> {
    // The command name (field 2) may hold spaces; fields after it follow its ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("no ')' in /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15.
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("short /proc/PID/stat line");
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let ticks = utime.parse::<u64>()? + stime.parse::<u64>()?;
    Ok(Duration::from_nanos(ticks * 1_000_000_000 / hz))
}

/// Resident memory of process `pid` in bytes, from /proc/PID/status.
pub fn rss_of(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    rss_from_status(&status)
}

fn rss_from_status(status: &str) -> Result<u64> {
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS in /proc/PID/status")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("empty VmRSS line")?
        .parse()?;
    Ok(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_a_command_name_with_spaces() {
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        let line = format!(
            "42 (tokio (rt) x) S 1 42 42 0 -1 4194560 100 0 0 0 {} {} 0 0 20 0 3 0 1 1 1",
            2 * hz,
            hz
        );
        assert_eq!(cpu_from_stat(&line).unwrap(), Duration::from_secs(3));
    }

    #[test]
    fn rss_is_read_in_bytes() {
        let status = "Name:\tedgeflow\nVmPeak:\t  9000 kB\nVmRSS:\t  1234 kB\n";
        assert_eq!(rss_from_status(status).unwrap(), 1234 * 1024);
    }

    #[test]
    fn this_process_has_used_some_cpu_and_memory() {
        let spin: u64 = (0..2_000_000u64).map(|i| i ^ (i >> 3)).sum();
        assert!(spin > 0);
        assert!(own_cpu() > Duration::ZERO);
        assert!(rss_of(std::process::id()).unwrap() > 0);
        assert!(cpu_of(std::process::id()).is_ok());
    }
}
