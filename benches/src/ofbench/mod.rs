//! An OpenFlow 1.3 switch emulator for load (cbench-style) and the parts of
//! a do-nothing ceiling controller: prebuilt messages, answer matching,
//! fabric wiring, and process accounting. The binaries `ofswitchbench` and
//! `ceiling` are the I/O around them.

/// Counters kept per emulated switch and added up for the run.
pub trait Tally {
    /// Adds `other` into `self`.
    fn tally(&mut self, other: &Self);
}

impl Tally for u64 {
    fn tally(&mut self, other: &u64) {
        *self += other;
    }
}

impl<const N: usize> Tally for [u64; N] {
    fn tally(&mut self, other: &[u64; N]) {
        for (a, b) in self.iter_mut().zip(other) {
            *a += b;
        }
    }
}

/// A struct of counters ([`Tally`] fields) with `add`, which adds another
/// switch's into it field by field.
macro_rules! counters {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident: $t:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
        }

        impl $name {
            /// Adds another switch's counters.
            pub fn add(&mut self, o: &$name) {
                $(crate::ofbench::Tally::tally(&mut self.$f, &o.$f);)*
            }
        }
    };
}

pub mod api;
pub mod datapath;
pub mod fabric;
pub mod frame;
pub mod pipeline;
pub mod procfs;
pub mod run;
pub mod setups;
pub mod switch;
pub mod table;
pub mod template;
pub mod window;
