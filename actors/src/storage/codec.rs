//! Record encoding: bincode 2 through serde, one configuration for every record.
//!
//! Encoded values are self-delimiting, so a journal record is simply the
//! concatenation of its events and is decoded by reading until the bytes run out.

use serde::{de::DeserializeOwned, Serialize};

use super::StorageError;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Appends the encoding of `value` to `buf`.
pub fn encode_into<T: Serialize>(value: &T, buf: &mut Vec<u8>) -> Result<(), StorageError> {
    bincode::serde::encode_into_std_write(value, buf, config())
        .map(|_| ())
        .map_err(|err| StorageError::Codec(err.to_string()))
}

/// Decodes one value from the front of `bytes`, returning it and the bytes used.
pub fn decode_one<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize), StorageError> {
    bincode::serde::decode_from_slice(bytes, config()).map_err(|err| StorageError::Codec(err.to_string()))
}

/// Decodes a concatenation of values, calling `each` for every one of them.
pub fn decode_all<T: DeserializeOwned>(mut bytes: &[u8], mut each: impl FnMut(T)) -> Result<usize, StorageError> {
    let mut count = 0;
    while !bytes.is_empty() {
        let (value, used) = decode_one::<T>(bytes)?;
        each(value);
        bytes = &bytes[used..];
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_values_decode_in_order() {
        let mut buf = Vec::new();
        for value in [("a".to_string(), 1u64), ("bc".to_string(), 300)] {
            encode_into(&value, &mut buf).unwrap();
        }
        let mut seen = Vec::new();
        let count = decode_all::<(String, u64)>(&buf, |v| seen.push(v)).unwrap();
        assert_eq!(count, 2);
        assert_eq!(seen, vec![("a".into(), 1), ("bc".into(), 300)]);
    }

    #[test]
    fn truncated_bytes_are_a_codec_error() {
        let mut buf = Vec::new();
        encode_into(&("hello".to_string(), 7u64), &mut buf).unwrap();
        buf.truncate(3);
        assert!(decode_all::<(String, u64)>(&buf, |_| {}).is_err());
    }
}
