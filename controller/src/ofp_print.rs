//! `edgeflow ofp-print`: decode a file of concatenated OpenFlow messages.

use edgeflow_proto::ofp::{self, OfpMsg};
use std::io::Write;

/// What went wrong while printing.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// A message could not be framed or decoded.
    #[error("message {index} at byte {offset}: {reason}")]
    Decode {
        /// Position of the message in the file, from 0.
        index: usize,
        /// Its byte offset.
        offset: usize,
        /// Why it failed.
        reason: String,
    },
    /// Re-encoding a message gave different bytes.
    #[error("message {index} at byte {offset} re-encodes differently")]
    Roundtrip {
        /// Position of the message in the file, from 0.
        index: usize,
        /// Its byte offset.
        offset: usize,
    },
    /// Writing the output failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Prints each message in `data` as one JSON line; with `roundtrip`, fails
/// on the first message whose re-encoding differs from its bytes.
pub fn print(data: &[u8], roundtrip: bool, out: &mut impl Write) -> Result<usize, PrintError> {
    let mut offset = 0;
    let mut index = 0;
    while offset < data.len() {
        let rest = &data[offset..];
        let decode_err = |reason: String| PrintError::Decode {
            index,
            offset,
            reason,
        };
        let len = match ofp::frame_len(rest) {
            Ok(Some(len)) => len,
            Ok(None) => return Err(decode_err(format!("truncated: {} bytes left", rest.len()))),
            Err(e) => return Err(decode_err(e.to_string())),
        };
        let frame = &rest[..len];
        let msg = OfpMsg::parse(frame).map_err(|e| decode_err(e.to_string()))?;
        serde_json::to_writer(&mut *out, &msg).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        if roundtrip && msg.to_vec() != frame {
            return Err(PrintError::Roundtrip { index, offset });
        }
        offset += len;
        index += 1;
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflow_proto::ofp::Message;

    #[test]
    fn prints_one_line_per_message() {
        let mut data = OfpMsg {
            xid: 7,
            body: Message::BarrierRequest,
        }
        .to_vec();
        data.extend(
            OfpMsg {
                xid: 8,
                body: Message::EchoRequest(vec![1, 2]),
            }
            .to_vec(),
        );
        let mut out = Vec::new();
        assert_eq!(print(&data, true, &mut out).unwrap(), 2);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().unwrap().contains("\"xid\":7"));
    }

    #[test]
    fn truncated_input_names_the_message() {
        let data = OfpMsg {
            xid: 7,
            body: Message::BarrierRequest,
        }
        .to_vec();
        let mut both = data.clone();
        both.extend(&data[..5]);
        let err = print(&both, false, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                PrintError::Decode {
                    index: 1,
                    offset: 8,
                    ..
                }
            ),
            "{err}"
        );
    }
}
