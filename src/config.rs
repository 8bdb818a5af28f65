//! Paths and options shared by the subcommands, resolved once.

use std::path::{Path, PathBuf};

/// Where the dictionaries come from: `--dict DIR`, else `INDEX/dict` if it exists, else the
/// shipped ones.
pub fn dict_dir(explicit: Option<&Path>, index: &Path) -> Option<PathBuf> {
    if let Some(d) = explicit {
        return Some(d.to_path_buf());
    }
    let d = index.join("dict");
    d.is_dir().then_some(d)
}
