//! Bytes → text: BOM-marked UTF-8/UTF-16, plain UTF-8, else GB18030 (a superset of GBK, the
//! encoding of many government files). Binary content is refused with a reason.

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE};

/// Decode `bytes`, or say why not.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom..];
        if enc == UTF_16LE || enc == UTF_16BE {
            return enc
                .decode_without_bom_handling_and_without_replacement(body)
                .map(|c| c.into_owned())
                .ok_or_else(|| format!("undecodable {} text", enc.name()));
        }
        return std::str::from_utf8(body)
            .map(str::to_string)
            .map_err(|e| format!("invalid UTF-8 after BOM at byte {}", e.valid_up_to() + bom));
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err("binary file (NUL bytes)".to_string());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|c| c.into_owned())
            .filter(|s| !looks_binary(s))
            .ok_or_else(|| "binary or undecodable file (neither UTF-8 nor GB18030)".to_string()),
    }
}

/// GB18030 decodes almost any byte string; text is mostly letters, not control characters.
fn looks_binary(s: &str) -> bool {
    let total = s.chars().take(4096).count().max(1);
    let bad = s
        .chars()
        .take(4096)
        .filter(|c| (c.is_control() && !c.is_whitespace()) || ('\u{E000}'..='\u{F8FF}').contains(c))
        .count();
    bad * 20 > total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_encoding() {
        assert_eq!(decode("营业执照".as_bytes()).unwrap(), "营业执照");
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("营业执照".as_bytes());
        assert_eq!(decode(&bom).unwrap(), "营业执照");
        let (gbk, _, _) = encoding_rs::GBK.encode("停水通知：各位居民");
        assert_eq!(decode(&gbk).unwrap(), "停水通知：各位居民");
        let mut u16 = vec![0xFF, 0xFE];
        for u in "身份证".encode_utf16() {
            u16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&u16).unwrap(), "身份证");
    }

    #[test]
    fn refuses_binary() {
        assert!(decode(&[0x89, b'P', b'N', b'G', 0, 0, 1, 2])
            .unwrap_err()
            .contains("binary"));
        let noise: Vec<u8> = (0..4000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .filter(|b| *b != 0)
            .collect();
        assert!(decode(&noise).is_err());
    }
}
