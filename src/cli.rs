//! Command-line arguments, in the Singer tap conventions.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Singer tap for the Healthchecks.io Management API v3: copies checks,
/// pings, ping bodies, flips and integrations into any Singer target.
#[derive(Debug, Parser)]
#[command(name = "tap-healthchecks", version, about, max_term_width = 100)]
pub struct Args {
    /// Config JSON file with api_key and the other settings. Repeat to merge
    /// several files in order, later files winning. The value ENV reads
    /// TAP_HEALTHCHECKS_<SETTING> environment variables, which win over
    /// files.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Vec<PathBuf>,

    /// State JSON file: the value of the last STATE message of an earlier
    /// run.
    #[arg(long, short = 's', value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Catalog JSON file that selects streams and fields; without one,
    /// every stream selected by default is synced (all but ping_bodies).
    #[arg(
        long,
        value_name = "FILE",
        visible_alias = "properties",
        short_alias = 'p'
    )]
    pub catalog: Option<PathBuf>,

    /// Print the catalog of streams and exit, without network requests.
    /// A --catalog or --state given with it is ignored, as Meltano passes
    /// them to every command.
    #[arg(long, short = 'd')]
    pub discover: bool,

    /// Print the tap's name, version, capabilities and settings, and exit.
    /// Other options are ignored.
    #[arg(long, conflicts_with_all = ["discover", "test"])]
    pub about: bool,

    /// Output format of --about.
    #[arg(long, value_enum, default_value_t = AboutFormat::Text, requires = "about")]
    pub format: AboutFormat,

    /// Check base_url and api_key with one request, report the key type
    /// and the streams it can read, and exit. A --catalog or --state given
    /// with it is ignored.
    #[arg(long, conflicts_with = "discover")]
    pub test: bool,

    /// Log level on stderr: error, warn, info, debug or trace. Overrides the
    /// log_level setting and TAP_HEALTHCHECKS_LOG_LEVEL.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

/// Output formats of `--about`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AboutFormat {
    Text,
    Json,
    Markdown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn properties_is_an_alias_of_catalog() {
        let args = Args::try_parse_from(["tap", "--config", "c.json", "--properties", "p.json"])
            .expect("parses");
        assert_eq!(args.catalog, Some(PathBuf::from("p.json")));
        let args = Args::try_parse_from(["tap", "-c", "c.json", "-p", "p.json"]).expect("parses");
        assert_eq!(args.catalog, Some(PathBuf::from("p.json")));
    }

    #[test]
    fn config_repeats() {
        let args = Args::try_parse_from(["tap", "--config", "a.json", "--config", "b.json"])
            .expect("parses");
        assert_eq!(
            args.config,
            [PathBuf::from("a.json"), PathBuf::from("b.json")]
        );
    }

    #[test]
    fn about_format() {
        let args = Args::try_parse_from(["tap", "--about", "--format", "json"]).expect("parses");
        assert!(args.about);
        assert_eq!(args.format, AboutFormat::Json);
        assert!(Args::try_parse_from(["tap", "--format", "json"]).is_err());
    }

    #[test]
    fn discover_accepts_state() {
        let args = Args::try_parse_from(["tap", "-c", "c.json", "--state", "s.json", "--discover"]);
        assert!(args.expect("parses").discover);
    }

    #[test]
    fn meltano_style_arguments_are_accepted() {
        let base = [
            "tap",
            "--config",
            "c.json",
            "--catalog",
            "k.json",
            "--state",
            "s.json",
        ];
        for command in ["--discover", "--about", "--test"] {
            let args = base.iter().copied().chain([command]);
            assert!(Args::try_parse_from(args).is_ok(), "{command}");
        }
    }
}
