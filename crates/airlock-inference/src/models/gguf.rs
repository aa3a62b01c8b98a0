//! A small reader for the header of a GGUF file: the magic, the metadata
//! keys and the tensor shapes, never the tensor data.
//!
//! llama.cpp's own metadata API leaves out array values entirely (the
//! tokenizer's token lists, for one), so `airlock model show` reads the
//! header itself to list every key, with arrays shown by element type and
//! length. Every length in the file is bounded before anything is allocated.

use serde::Serialize;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// The first four bytes of every GGUF file.
pub const MAGIC: &[u8; 4] = b"GGUF";

/// Longest string value kept (chat templates are a few KiB; some files carry
/// a whole tokenizer JSON of a few MiB). Longer is a corrupt file.
const MAX_STRING: u64 = 64 << 20;
/// Most metadata keys accepted (real files have a few dozen).
const MAX_KV: u64 = 1 << 16;
/// Most tensors accepted (large models have a few thousand).
const MAX_TENSORS: u64 = 1 << 20;
/// Most elements in one array (vocabularies are up to a few hundred thousand).
const MAX_ARRAY: u64 = 1 << 26;
/// Arrays up to this length are shown in full; longer ones by length only.
const SHOWN_ARRAY: u64 = 16;
/// ggml's `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;

/// The start of `path` when it is not a GGUF file: `None` if it is one.
pub fn not_gguf(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut start = Vec::with_capacity(8);
    File::open(path)?.take(8).read_to_end(&mut start)?;
    Ok((!start.starts_with(MAGIC)).then_some(start))
}

/// How the start of a file that is not GGUF looks, for messages.
pub fn describe_start(start: &[u8]) -> String {
    if start.is_empty() {
        return "it is empty".into();
    }
    format!("it starts with \"{}\", not \"GGUF\"", start.escape_ascii())
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// An unsigned integer (u8 to u64).
    Uint(u64),
    /// A signed integer (i8 to i64).
    Int(i64),
    /// A float (f32 or f64).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (invalid UTF-8 replaced).
    Str(String),
    /// An array: its element type, length and, for short arrays of
    /// scalars, the elements.
    Array {
        /// The element type's GGUF name (`string`, `u32`, ...).
        #[serde(rename = "array-of")]
        element: &'static str,
        /// Number of elements.
        length: u64,
        /// The elements, when there are at most 16 and they are not arrays.
        #[serde(skip_serializing_if = "Option::is_none")]
        items: Option<Vec<Value>>,
    },
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Uint(v) => write!(f, "{v}"),
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::Str(s) => write!(f, "{s}"),
            Self::Array {
                items: Some(items), ..
            } => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match item {
                        Self::Str(s) => write!(f, "{s:?}")?,
                        other => write!(f, "{other}")?,
                    }
                }
                f.write_str("]")
            }
            Self::Array {
                element, length, ..
            } => write!(f, "[{length} × {element}]"),
        }
    }
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Uint(v) => Some(*v),
            Self::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// What the header says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    /// GGUF format version (2 or 3).
    pub version: u32,
    /// Number of tensors.
    pub tensors: u64,
    /// Sum over tensors of their element counts: the parameter count.
    pub parameters: u64,
    /// Every metadata key and value, in file order.
    pub metadata: Vec<(String, Value)>,
}

impl Header {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Read the header of the GGUF file at `path`.
pub fn read_header(path: &Path) -> io::Result<Header> {
    let mut r = Reader(BufReader::with_capacity(1 << 20, File::open(path)?));
    let mut magic = [0u8; 4];
    r.0.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(invalid(describe_start(&magic)));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(invalid(format!(
            "GGUF version {version} is not supported (only 2 and 3)"
        )));
    }
    let tensors = r.u64()?;
    let kv_count = r.u64()?;
    if tensors > MAX_TENSORS || kv_count > MAX_KV {
        return Err(invalid(format!(
            "the header claims {tensors} tensors and {kv_count} metadata keys, more than any real model"
        )));
    }
    let mut metadata = Vec::new();
    for _ in 0..kv_count {
        let key = r.string()?;
        let ty = r.u32()?;
        let value = r.value(ty, true)?;
        metadata.push((key, value));
    }
    let mut parameters: u64 = 0;
    for _ in 0..tensors {
        let name_len = r.u64()?;
        if name_len > MAX_STRING {
            return Err(invalid(format!("a tensor name of {name_len} bytes")));
        }
        r.skip(name_len)?;
        let dims = r.u32()?;
        if dims > MAX_DIMS {
            return Err(invalid(format!("a tensor with {dims} dimensions")));
        }
        let mut elements: u64 = 1;
        for _ in 0..dims {
            elements = elements.saturating_mul(r.u64()?);
        }
        let _ggml_type = r.u32()?;
        let _offset = r.u64()?;
        parameters = parameters.saturating_add(elements);
    }
    Ok(Header {
        version,
        tensors,
        parameters,
        metadata,
    })
}

struct Reader(BufReader<File>);

impl Reader {
    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.0.read_exact(&mut b)?;
        Ok(b)
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| invalid("a length past the end".into()))?;
        self.0.seek_relative(n)
    }
    fn string(&mut self) -> io::Result<String> {
        let len = self.u64()?;
        if len > MAX_STRING {
            return Err(invalid(format!("a string of {len} bytes")));
        }
        let mut buf = Vec::new();
        (&mut self.0).take(len).read_to_end(&mut buf)?;
        if buf.len() as u64 != len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// A value of GGUF type `ty`; arrays only when `top` (GGUF arrays of
    /// arrays are not used by llama.cpp and are refused here).
    fn value(&mut self, ty: u32, top: bool) -> io::Result<Value> {
        Ok(match ty {
            0 => Value::Uint(u64::from(u8::from_le_bytes(self.bytes()?))),
            1 => Value::Int(i64::from(i8::from_le_bytes(self.bytes()?))),
            2 => Value::Uint(u64::from(u16::from_le_bytes(self.bytes()?))),
            3 => Value::Int(i64::from(i16::from_le_bytes(self.bytes()?))),
            4 => Value::Uint(u64::from(self.u32()?)),
            5 => Value::Int(i64::from(i32::from_le_bytes(self.bytes()?))),
            6 => Value::Float(f32_as_f64(f32::from_le_bytes(self.bytes()?))),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => Value::Str(self.string()?),
            9 if top => {
                let element_ty = self.u32()?;
                let length = self.u64()?;
                if length > MAX_ARRAY {
                    return Err(invalid(format!("an array of {length} elements")));
                }
                let element = type_name(element_ty)
                    .ok_or_else(|| invalid(format!("unknown GGUF value type {element_ty}")))?;
                if element_ty == 9 {
                    return Err(invalid("an array of arrays".into()));
                }
                if length <= SHOWN_ARRAY {
                    let mut items = Vec::new();
                    for _ in 0..length {
                        items.push(self.value(element_ty, false)?);
                    }
                    Value::Array {
                        element,
                        length,
                        items: Some(items),
                    }
                } else {
                    match fixed_size(element_ty) {
                        Some(size) => self.skip(size.saturating_mul(length))?,
                        None => {
                            for _ in 0..length {
                                let len = self.u64()?;
                                if len > MAX_STRING {
                                    return Err(invalid(format!("a string of {len} bytes")));
                                }
                                self.skip(len)?;
                            }
                        }
                    }
                    Value::Array {
                        element,
                        length,
                        items: None,
                    }
                }
            }
            other => return Err(invalid(format!("unknown GGUF value type {other}"))),
        })
    }
}

/// An f32 as the f64 with the same shortest decimal form (`1e-5`, not
/// `0.000009999999747378752`), so it shows as it was written.
fn f32_as_f64(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

fn type_name(ty: u32) -> Option<&'static str> {
    Some(match ty {
        0 => "u8",
        1 => "i8",
        2 => "u16",
        3 => "i16",
        4 => "u32",
        5 => "i32",
        6 => "f32",
        7 => "bool",
        8 => "string",
        9 => "array",
        10 => "u64",
        11 => "i64",
        12 => "f64",
        _ => return None,
    })
}

fn fixed_size(ty: u32) -> Option<u64> {
    match ty {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// The name of a `general.file_type` value (llama.cpp's `llama_ftype`), as
/// quantizations are usually written (`Q4_1`, `Q4_K_M`, `F16`).
pub fn file_type_name(file_type: u64) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        39 => "NVFP4",
        40 => "Q1_0",
        41 => "Q2_0",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    /// A tiny GGUF v3 header: 4 keys, 2 tensors.
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u64.to_le_bytes());
        b.extend_from_slice(&4u64.to_le_bytes());
        string(&mut b, "general.architecture");
        b.extend_from_slice(&8u32.to_le_bytes());
        string(&mut b, "llama");
        string(&mut b, "general.file_type");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        string(&mut b, "tokenizer.ggml.tokens");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&20u64.to_le_bytes());
        for i in 0..20 {
            string(&mut b, &format!("tok{i}"));
        }
        string(&mut b, "short");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&5u32.to_le_bytes());
        b.extend_from_slice(&2u64.to_le_bytes());
        b.extend_from_slice(&(-1i32).to_le_bytes());
        b.extend_from_slice(&7i32.to_le_bytes());
        for (name, dims) in [("a", &[4u64, 3][..]), ("b", &[5u64][..])] {
            string(&mut b, name);
            b.extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in dims {
                b.extend_from_slice(&d.to_le_bytes());
            }
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&0u64.to_le_bytes());
        }
        b
    }

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn reads_keys_arrays_and_parameters() {
        let f = file(&sample());
        let h = read_header(f.path()).unwrap();
        assert_eq!(h.version, 3);
        assert_eq!(h.tensors, 2);
        assert_eq!(h.parameters, 12 + 5);
        assert_eq!(
            h.get("general.architecture").unwrap().as_str(),
            Some("llama")
        );
        assert_eq!(h.get("general.file_type").unwrap().as_u64(), Some(3));
        assert_eq!(
            h.get("tokenizer.ggml.tokens").unwrap().to_string(),
            "[20 × string]"
        );
        assert_eq!(h.get("short").unwrap().to_string(), "[-1, 7]");
        assert_eq!(file_type_name(3), Some("Q4_1"));
        assert_eq!(file_type_name(4), None);
    }

    #[test]
    fn truncated_or_lying_headers_are_errors_not_panics() {
        let full = sample();
        for cut in [3, 4, 10, 30, 60, full.len() - 1] {
            let f = file(&full[..cut]);
            assert!(read_header(f.path()).is_err(), "cut at {cut}");
        }
        let mut huge = full.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        let f = file(&huge);
        let e = read_header(f.path()).unwrap_err();
        assert!(e.to_string().contains("more than any real model"), "{e}");
    }

    #[test]
    fn not_gguf_reports_the_start() {
        let f = file(b"\x7fELF\x02\x01");
        let start = not_gguf(f.path()).unwrap().unwrap();
        assert_eq!(
            describe_start(&start),
            "it starts with \"\\x7fELF\\x02\\x01\", not \"GGUF\""
        );
        let f = file(b"");
        assert_eq!(
            describe_start(&not_gguf(f.path()).unwrap().unwrap()),
            "it is empty"
        );
        let f = file(&sample());
        assert_eq!(not_gguf(f.path()).unwrap(), None);
    }
}
