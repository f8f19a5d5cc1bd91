//! Command-line options, parsed by hand.
//!
//! | flag              | default              | meaning                                  |
//! |-------------------|----------------------|------------------------------------------|
//! | `--port N`        | `3000`               | TCP port; `0` picks a free one           |
//! | `--host IP`       | `127.0.0.1`          | address to bind                          |
//! | `--pkg DIR`       | `<repo>/pkg`         | the built npm package, served at `/pkg/` |
//! | `--tests-dir DIR` | `<repo>/tests/pages` | test pages, served at `/tests/pages/`    |
//! | `--ping-interval MS` | `25000`           | Engine.IO heartbeat interval             |
//! | `--ping-timeout MS`  | `20000`           | how long a pong may take                 |
//! | `-h`, `--help`    |                      | print usage and exit                     |
//!
//! Every flag also accepts the `--flag=value` form.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// Usage text printed by `--help` and after a bad argument.
pub const USAGE: &str = "\
usage: rtio-server [--port N] [--host IP] [--pkg DIR] [--tests-dir DIR]
                   [--ping-interval MS] [--ping-timeout MS]

  --port N          TCP port to listen on (default 3000; 0 picks a free port)
  --host IP         address to bind (default 127.0.0.1)
  --pkg DIR         built npm package served at /pkg/ (default: <repo>/pkg)
  --tests-dir DIR   pages served at /tests/pages/ (default: <repo>/tests/pages)
  --ping-interval MS  Engine.IO heartbeat interval (default 25000)
  --ping-timeout MS   how long the server waits for a pong (default 20000)
  -h, --help        print this help";

/// Where to listen and what to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind; `0` asks the OS for a free one.
    pub port: u16,
    /// Directory served at `/pkg/`.
    pub pkg_dir: PathBuf,
    /// Directory served at `/tests/pages/`.
    pub tests_dir: PathBuf,
    /// Engine.IO heartbeat interval, in milliseconds.
    pub ping_interval_ms: u64,
    /// How long the server waits for a pong, in milliseconds.
    pub ping_timeout_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        Options {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3000,
            pkg_dir: repo.join("pkg"),
            tests_dir: repo.join("tests/pages"),
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Run the server.
    Serve(Options),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// A command line that cannot be run; the process exits with status 2.
#[derive(Debug, PartialEq)]
pub enum CliError {
    /// A flag this program does not know.
    UnknownFlag(String),
    /// A flag given without its value.
    MissingValue(&'static str),
    /// A value that does not parse.
    InvalidValue {
        /// The flag, e.g. `--port`.
        flag: &'static str,
        /// The value as given.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownFlag(flag) => write!(f, "unknown argument `{flag}`"),
            CliError::MissingValue(flag) => write!(f, "`{flag}` needs a value"),
            CliError::InvalidValue {
                flag,
                value,
                expected,
            } => write!(
                f,
                "invalid value `{value}` for `{flag}`: expected {expected}"
            ),
        }
    }
}

impl std::error::Error for CliError {}

/// Parses the arguments that follow the program name.
pub fn parse<I>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = String>,
{
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
            _ => (arg.clone(), None),
        };
        let flag: &'static str = match name.as_str() {
            "-h" | "--help" if inline_value.is_none() => return Ok(Command::Help),
            "--port" => "--port",
            "--host" => "--host",
            "--pkg" => "--pkg",
            "--tests-dir" => "--tests-dir",
            "--ping-interval" => "--ping-interval",
            "--ping-timeout" => "--ping-timeout",
            _ => return Err(CliError::UnknownFlag(arg)),
        };
        let value = match inline_value {
            Some(value) => value.to_owned(),
            None => args.next().ok_or(CliError::MissingValue(flag))?,
        };
        let invalid = |expected| CliError::InvalidValue {
            flag,
            value: value.clone(),
            expected,
        };
        match flag {
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| invalid("a port number from 0 to 65535"))?
            }
            "--host" => {
                options.host = value
                    .parse()
                    .map_err(|_| invalid("an IP address such as 127.0.0.1"))?
            }
            "--ping-interval" | "--ping-timeout" => {
                let ms = value
                    .parse()
                    .ok()
                    .filter(|ms| (1..=600_000).contains(ms))
                    .ok_or_else(|| invalid("milliseconds from 1 to 600000"))?;
                if flag == "--ping-interval" {
                    options.ping_interval_ms = ms;
                } else {
                    options.ping_timeout_ms = ms;
                }
            }
            "--pkg" | "--tests-dir" if value.is_empty() => return Err(invalid("a directory")),
            "--pkg" => options.pkg_dir = PathBuf::from(value),
            _ => options.tests_dir = PathBuf::from(value),
        }
    }
    Ok(Command::Serve(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, CliError> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults() {
        assert_eq!(parse_strs(&[]), Ok(Command::Serve(Options::default())));
        assert_eq!(Options::default().port, 3000);
    }

    #[test]
    fn both_value_forms() {
        let Ok(Command::Serve(o)) = parse_strs(&["--port", "0", "--pkg=/x", "--tests-dir", "/y"])
        else {
            panic!("should parse");
        };
        assert_eq!(o.port, 0);
        assert_eq!(o.pkg_dir, PathBuf::from("/x"));
        assert_eq!(o.tests_dir, PathBuf::from("/y"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_strs(&["--nope"]),
            Err(CliError::UnknownFlag("--nope".into()))
        );
        assert_eq!(
            parse_strs(&["--port"]),
            Err(CliError::MissingValue("--port"))
        );
        assert!(matches!(
            parse_strs(&["--port", "70000"]),
            Err(CliError::InvalidValue { flag: "--port", .. })
        ));
        assert!(matches!(
            parse_strs(&["--host=localhost"]),
            Err(CliError::InvalidValue { flag: "--host", .. })
        ));
        assert!(matches!(
            parse_strs(&["--ping-interval", "0"]),
            Err(CliError::InvalidValue {
                flag: "--ping-interval",
                ..
            })
        ));
        assert_eq!(parse_strs(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn heartbeat() {
        let Ok(Command::Serve(o)) = parse_strs(&["--ping-interval", "300", "--ping-timeout=200"])
        else {
            panic!("should parse");
        };
        assert_eq!((o.ping_interval_ms, o.ping_timeout_ms), (300, 200));
    }
}
