//! An OpenFlow 1.3 switch emulator for load (cbench-style) and the parts of
//! a do-nothing ceiling controller: prebuilt messages, answer matching,
//! fabric wiring, and process accounting. The binaries `ofswitchbench` and
//! `ceiling` are the I/O around them.

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
