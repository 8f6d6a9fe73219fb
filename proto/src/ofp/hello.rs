//! OFPT_HELLO and version negotiation (OF1.3 §7.5.1).

use super::wire::{hex, pad8, split_tlvs, Reader, Result, TlvAlign, Writer};
use super::OFP_VERSION;

/// OFPHET_VERSIONBITMAP.
pub const OFPHET_VERSIONBITMAP: u16 = 1;

/// OFPT_HELLO: the sender's highest version plus optional elements.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hello {
    /// The version byte of the HELLO header.
    pub version: u8,
    /// Hello elements in wire order.
    pub elements: Vec<HelloElem>,
}

/// One hello element.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum HelloElem {
    /// Bitmaps of supported versions: bit n of word n/32 means version n.
    VersionBitmap(Vec<u32>),
    /// An element type this codec does not know, raw.
    Unknown {
        /// Element type.
        typ: u16,
        /// Bytes after type and length (without alignment padding).
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

impl HelloElem {
    fn body_len(&self) -> usize {
        match self {
            HelloElem::VersionBitmap(b) => 4 * b.len(),
            HelloElem::Unknown { data, .. } => data.len(),
        }
    }

    /// Encoded length including padding to 8.
    pub fn buffer_len(&self) -> usize {
        pad8(4 + self.body_len())
    }

    fn write(&self, w: &mut Writer) {
        let start = w.pos();
        match self {
            HelloElem::VersionBitmap(b) => {
                w.u16(OFPHET_VERSIONBITMAP);
                w.u16((4 + self.body_len()) as u16);
                for word in b {
                    w.u32(*word);
                }
            }
            HelloElem::Unknown { typ, data } => {
                w.u16(*typ);
                w.u16((4 + self.body_len()) as u16);
                w.put(data);
            }
        }
        w.pad_to8_from(start);
    }
}

impl Hello {
    /// Our HELLO: version 4 with a bitmap naming only OpenFlow 1.3.
    pub fn standard() -> Hello {
        Hello {
            version: OFP_VERSION,
            elements: vec![HelloElem::VersionBitmap(vec![1 << OFP_VERSION])],
        }
    }

    /// The first version bitmap element, if any.
    pub fn bitmap(&self) -> Option<&[u32]> {
        self.elements.iter().find_map(|e| match e {
            HelloElem::VersionBitmap(b) => Some(b.as_slice()),
            _ => None,
        })
    }

    /// Whether the peer that sent this HELLO supports `version`: per its
    /// bitmap if present, else every version up to its header version.
    pub fn supports(&self, version: u8) -> bool {
        match self.bitmap() {
            Some(b) => {
                let word = b.get(usize::from(version / 32)).copied().unwrap_or(0);
                word & (1 << (version % 32)) != 0
            }
            None => version <= self.version,
        }
    }

    /// The version to speak with this peer per OF1.3 §7.5.1: the highest
    /// common version with our bitmap if the peer sent one, else
    /// min(peer version, 4). None if there is no common version; a result
    /// below 4 means the session must be refused.
    pub fn negotiate(&self) -> Option<u8> {
        match self.bitmap() {
            Some(_) => self.supports(OFP_VERSION).then_some(OFP_VERSION),
            None => Some(self.version.min(OFP_VERSION)),
        }
    }

    pub(crate) fn read(version: u8, r: &mut Reader) -> Result<Hello> {
        let body = r.rest();
        let elements = match parse_elements(body) {
            Ok(e) => e,
            // Other versions' HELLO bodies are framed but not interpreted.
            Err(_) if version != OFP_VERSION => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(Hello { version, elements })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        self.elements.iter().map(HelloElem::buffer_len).sum()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        for e in &self.elements {
            e.write(w);
        }
    }
}

fn parse_elements(body: &[u8]) -> Result<Vec<HelloElem>> {
    split_tlvs(body, 4, TlvAlign::PaddedAfter)?
        .into_iter()
        .map(|t| {
            let data = t.body();
            if t.typ == OFPHET_VERSIONBITMAP {
                if !data.len().is_multiple_of(4) {
                    return Err(super::DecodeError::BadLength);
                }
                let mut r = Reader::new(data);
                let mut words = Vec::with_capacity(data.len() / 4);
                while !r.is_empty() {
                    words.push(r.u32()?);
                }
                Ok(HelloElem::VersionBitmap(words))
            } else {
                Ok(HelloElem::Unknown {
                    typ: t.typ,
                    data: data.to_vec(),
                })
            }
        })
        .collect()
}
