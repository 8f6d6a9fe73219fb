//! Checked reading and appending writing of OpenFlow wire data.
//!
//! `Reader` never panics: every read checks the remaining length first and
//! returns `DecodeError::Truncated` when it is short. `Writer` appends to a
//! growable buffer in one pass: a length field that covers what follows is
//! written as a placeholder and patched once that is written, so encoding
//! never walks a message first to size it.

use super::DecodeError;
use crate::MacAddr;
use nom::Parser;

/// Result alias for decoding.
pub type Result<T> = std::result::Result<T, DecodeError>;

/// Rounds `n` up to the next multiple of 8 (OpenFlow's alignment unit).
pub(crate) const fn pad8(n: usize) -> usize {
    (n + 7) & !7
}

/// A cursor over input bytes whose reads are all length-checked.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn mac(&mut self) -> Result<MacAddr> {
        Ok(MacAddr(self.array()?))
    }

    /// A fixed-size, NUL-padded string field (port and table names, descriptions).
    pub(crate) fn fixed_str(&mut self, n: usize) -> Result<String> {
        Ok(decode_fixed_str(self.bytes(n)?))
    }

    /// All remaining bytes.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Splits off the next `len` bytes as their own reader.
    pub(crate) fn sub(&mut self, len: usize) -> Result<Reader<'a>> {
        Ok(Reader::new(self.bytes(len)?))
    }

    /// Errors if any bytes are left: the spec has no trailing data here.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Decodes a NUL-padded string field: up to the first NUL, invalid UTF-8
/// replaced, then cut to fit the field again so that emit/parse is stable.
pub(crate) fn decode_fixed_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let s = String::from_utf8_lossy(&b[..end]).into_owned();
    truncate_at_boundary(&s, b.len()).to_string()
}

fn truncate_at_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// Encodes with `write` into the front of `buf`: the `emit` of an element
/// into a caller's slice. Panics only if `buf` is shorter than the encoding.
pub(crate) fn emit_into(buf: &mut [u8], write: impl FnOnce(&mut Writer)) {
    let mut b = bytes::BytesMut::new();
    write(&mut Writer::new(&mut b));
    buf[..b.len()].copy_from_slice(&b);
}

/// Appends to a buffer; positions are indices into the whole buffer.
pub(crate) struct Writer<'a> {
    buf: &'a mut bytes::BytesMut,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut bytes::BytesMut) -> Self {
        Writer { buf }
    }

    pub(crate) fn pos(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn put(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn zeros(&mut self, n: usize) {
        bytes::BufMut::put_bytes(self.buf, 0, n);
    }

    /// Zero-fills up to the next multiple of 8 counted from `start`.
    pub(crate) fn pad_to8_from(&mut self, start: usize) {
        let written = self.pos() - start;
        self.zeros(pad8(written) - written);
    }

    /// Writes, at `at` (two bytes left for it), the bytes written since `from`.
    pub(crate) fn patch_len16(&mut self, at: usize, from: usize) {
        let len = len16(self.pos() - from);
        self.buf[at..at + 2].copy_from_slice(&len.to_be_bytes());
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.put(&v.to_be_bytes());
    }

    pub(crate) fn mac(&mut self, v: MacAddr) {
        self.put(&v.0);
    }

    /// Writes `s` into an `n`-byte NUL-padded field, cut at a char boundary.
    pub(crate) fn fixed_str(&mut self, s: &str, n: usize) {
        let s = truncate_at_boundary(s, n);
        self.put(s.as_bytes());
        self.zeros(n - s.len());
    }
}

/// A fixed-size part of a message (a header, a fixed body) assembled in
/// place and written with one [`Writer::put`]: one capacity check instead of
/// one per field. Fields are appended in wire order; with everything inlined
/// the positions are constants and the bounds checks fold away.
pub(crate) struct Fixed<const N: usize> {
    b: [u8; N],
    at: usize,
}

impl<const N: usize> Fixed<N> {
    pub(crate) fn new() -> Self {
        Fixed { b: [0; N], at: 0 }
    }

    fn bytes<const M: usize>(&mut self, v: [u8; M]) -> &mut Self {
        self.b[self.at..self.at + M].copy_from_slice(&v);
        self.at += M;
        self
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes([v])
    }

    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(v.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(v.to_be_bytes())
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(v.to_be_bytes())
    }

    pub(crate) fn zeros(&mut self, n: usize) -> &mut Self {
        self.at += n;
        self
    }

    /// The assembled bytes; every one of them must have been written.
    pub(crate) fn done(&self) -> &[u8; N] {
        debug_assert_eq!(self.at, N, "a fixed part left unfilled");
        &self.b
    }
}

/// Length as a u16 wire field. Messages are limited to 65535 bytes; an
/// oversized value is written truncated (never panics) and will not parse.
pub(crate) fn len16(n: usize) -> u16 {
    n as u16
}

/// One element of a `type: u16, length: u16` TLV list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub typ: u16,
    /// The whole TLV including its 4-byte header, without alignment padding.
    pub whole: &'a [u8],
}

impl Tlv<'_> {
    /// Bytes after the 4-byte type/length header.
    pub(crate) fn body(&self) -> &[u8] {
        self.whole.get(4..).unwrap_or(&[])
    }
}

/// How a TLV list pads its elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlvAlign {
    /// `length` itself must be a multiple of 8 (actions, instructions, bands).
    LengthMultipleOf8,
    /// `length` excludes padding up to 8, which follows each element (hello
    /// elements, table-feature properties); the last element's pad may be cut.
    PaddedAfter,
    /// No alignment: each element is exactly `length` bytes (queue properties
    /// as switches really send them).
    Unaligned,
}

/// Splits a TLV list (type u16, length u16, ...) with nom, checking that each
/// length covers its header and fits in the input.
pub(crate) fn split_tlvs(
    mut input: &[u8],
    min_len: usize,
    align: TlvAlign,
) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (typ, len) = tlv_header(input)?;
        let len = usize::from(len);
        if len < min_len.max(4) || len > input.len() {
            return Err(DecodeError::BadLength);
        }
        if align == TlvAlign::LengthMultipleOf8 && !len.is_multiple_of(8) {
            return Err(DecodeError::BadLength);
        }
        let step = match align {
            TlvAlign::LengthMultipleOf8 | TlvAlign::Unaligned => len,
            TlvAlign::PaddedAfter => pad8(len).min(input.len()),
        };
        let (whole, _) = input.split_at(len);
        out.push(Tlv { typ, whole });
        input = &input[step..];
    }
    Ok(out)
}

/// An element of a `type: u16, length: u16` list whose length is a multiple
/// of 8 (actions, instructions, meter bands). The list framing and its
/// alignment rule live here; each type only decodes and encodes one body.
pub(crate) trait TlvItem: Sized {
    /// The error for a malformed element or list of this type.
    const ERROR: DecodeError;
    /// The type number written in the header.
    fn typ(&self) -> u16;
    /// Encoded length including header and padding (a multiple of 8).
    fn buffer_len(&self) -> usize;
    /// Decodes one element from its type and the bytes after its header.
    fn from_body(typ: u16, body: &[u8]) -> Result<Self>;
    /// Writes what follows the 4-byte header, without the padding.
    fn write_body(&self, w: &mut Writer);

    /// Writes header, body and zero padding up to `buffer_len()`.
    fn write(&self, w: &mut Writer) {
        let start = w.pos();
        // Type and a length placeholder, patched once the body is written.
        w.put(Fixed::<4>::new().u16(self.typ()).zeros(2).done());
        self.write_body(w);
        w.pad_to8_from(start);
        w.patch_len16(start + 2, start);
        debug_assert_eq!(w.pos() - start, self.buffer_len());
    }

    /// Checks that a fixed-size element (`n` bytes with its header) has
    /// exactly that size.
    fn fixed_len(body: &[u8], n: usize) -> Result<()> {
        if body.len() + 4 == n {
            Ok(())
        } else {
            Err(Self::ERROR)
        }
    }
}

/// Parses one element from the front of `buf`, returning it and the rest.
pub(crate) fn parse_item<T: TlvItem>(buf: &[u8]) -> Result<(T, &[u8])> {
    let mut r = Reader::new(buf);
    let typ = r.u16()?;
    let len = usize::from(r.u16()?);
    if len < 8 || !len.is_multiple_of(8) {
        return Err(T::ERROR);
    }
    let body = r.bytes(len - 4).map_err(|_| T::ERROR)?;
    Ok((T::from_body(typ, body)?, r.rest()))
}

/// Parses a list of elements filling all of `buf`.
pub(crate) fn parse_list<T: TlvItem>(buf: &[u8]) -> Result<Vec<T>> {
    split_tlvs(buf, 8, TlvAlign::LengthMultipleOf8)
        .map_err(|_| T::ERROR)?
        .iter()
        .map(|t| T::from_body(t.typ, t.body()))
        .collect()
}

/// Total encoded length of a list.
pub(crate) fn list_len<T: TlvItem>(list: &[T]) -> usize {
    list.iter().map(T::buffer_len).sum()
}

/// Writes a list.
pub(crate) fn write_list<T: TlvItem>(list: &[T], w: &mut Writer) {
    for item in list {
        item.write(w);
    }
}

fn tlv_header(input: &[u8]) -> Result<(u16, u16)> {
    use nom::number::complete::be_u16;
    let parsed: nom::IResult<&[u8], (u16, u16)> = (be_u16, be_u16).parse(input);
    parsed.map(|(_, h)| h).map_err(|_| DecodeError::Truncated)
}

/// Declares a wire enum with an `Unknown(n)` variant and lossless
/// conversions to and from the integer (smoltcp's `enum_with_unknown!`).
macro_rules! enum_with_unknown {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($ty:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this codec has no name for; kept so it round-trips.
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                match v {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> Self {
                match v {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use enum_with_unknown;

/// Serializes byte payloads as lowercase hex strings in JSON output.
pub(crate) mod hex {
    /// serde `serialize_with` helper.
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(b.len() * 2);
        for byte in b {
            out.push_str(&format!("{byte:02x}"));
        }
        s.serialize_str(&out)
    }
}
