//! Wire codecs for edgeflow: OpenFlow 1.3 messages (`ofp`) and the packet
//! headers the controller reads and writes (`packet`).
//!
//! Contract shared by every module: parsing checks lengths before reading, so
//! no accessor panics on any input; `emit` into a buffer of `buffer_len()`
//! bytes never panics; length fields are computed on emit, never trusted.

mod mac;

pub use mac::MacAddr;
pub mod ofp;
pub mod packet;
