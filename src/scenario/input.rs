//! Reading input files safely: only regular files (a FIFO would block forever, `/dev/zero` would
//! be read until memory runs out), at most a bounded number of bytes, and text errors that say
//! where the bad byte is.

use std::io::Read;
use std::path::Path;

/// Largest input file read (scenario, task definition, trace, baseline): 256 MiB.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads `path` if it is a regular file (symbolic links followed) of at most `max_bytes`.
/// Errors say why not (what the path is instead, found without opening it: opening a FIFO
/// blocks); callers add the path.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a folder" } else { "not a regular file (a device, pipe or socket)" };
        return Err(format!("it is {what}; give a regular file"));
    }
    if meta.len() > max_bytes {
        return Err(format!("{} bytes is more than the {max_bytes} allowed", meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the size check: never read more than allowed.
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!("more than the {max_bytes} bytes allowed"));
    }
    Ok(bytes)
}

/// Bytes as UTF-8 text, or a message naming the first invalid byte's offset, line and column.
pub fn utf8_text(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        format!(
            "the file is not UTF-8 text: invalid byte 0x{:02x} at byte offset {offset} (line {line}, column {column})",
            e.as_bytes()[offset]
        )
    })
}

/// [`read_regular_file`] then [`utf8_text`]; errors name the path.
pub fn read_text_file(path: &Path) -> Result<String, String> {
    let bytes = read_regular_file(path, MAX_INPUT_BYTES).map_err(|m| format!("cannot read `{}`: {m}", path.display()))?;
    utf8_text(bytes).map_err(|m| format!("`{}`: {m}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_is_named_by_offset_line_and_column() {
        let e = utf8_text(b"a = 1\nb = \"\xff\"\n".to_vec()).unwrap_err();
        assert!(e.contains("0xff") && e.contains("byte offset 11") && e.contains("line 2, column 6"), "{e}");
    }

    #[test]
    fn dev_zero_and_folders_are_refused_without_reading() {
        let e = read_regular_file(Path::new("/dev/zero"), MAX_INPUT_BYTES).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let tmp = tempfile::tempdir().unwrap();
        assert!(read_regular_file(tmp.path(), MAX_INPUT_BYTES).unwrap_err().contains("a folder"));
    }

    #[test]
    fn a_file_larger_than_the_bound_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("big.csv");
        std::fs::write(&p, vec![b'x'; 101]).unwrap();
        assert!(read_regular_file(&p, 100).unwrap_err().contains("101 bytes"));
        assert_eq!(read_regular_file(&p, 101).unwrap().len(), 101);
    }
}
