//! GATHER: the config file read and parsed (a missing explicit file is an error; no file means
//! the built-in defaults), with the digest of the bytes that decided the gates.

use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::error::{Error, Location};
use crate::request::DEFAULT_CONFIG;

/// A config is text a person writes: far below this.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Loads the config: the explicit path (which must exist), else the default when present,
/// else built-in defaults. Returns the config and the path it came from.
pub fn load_config(
    explicit: Option<&Path>,
    workdir: &Path,
) -> Result<(Config, Option<PathBuf>), Error> {
    let path = match explicit {
        Some(p) => Some(if p.is_absolute() {
            p.to_owned()
        } else {
            workdir.join(p)
        }),
        // Only a default that is not there at all means the built-in defaults: one that is
        // there but cannot be read (a dangling link, a directory, a device) is an error, or
        // the run would be decided on the defaults instead of the repository's policy.
        None => Some(workdir.join(DEFAULT_CONFIG)).filter(|p| {
            !matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
        }),
    };
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    // The file named on the command line may be `/dev/null` (no config); the default one in
    // the checkout must be a file.
    let special = match explicit {
        Some(_) => crate::inputs::Special::Any,
        None => crate::inputs::Special::None,
    };
    let bytes = crate::inputs::read_limited(&path, MAX_CONFIG_BYTES, special).map_err(|e| {
        Error::Config {
            path: path.clone(),
            location: Location::default(),
            message: format!("cannot read: {e}"),
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        Error::Config {
            path: path.clone(),
            location: Location {
                line: Some(line),
                byte: Some(at as u64),
            },
            message: "not UTF-8 text".into(),
        }
    })?;
    let mut config = config::parse(&text, &path)?;
    config.digest = Some(crate::retain::canonical::sha256_hex(text.as_bytes()));
    Ok((config, Some(path)))
}
