//! OpenFlow 1.3 messages.
