//! `rawflow`: develop camera RAW files, run the studio pipeline locally, or run the EC2 worker.

mod develop;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Fast, colour-accurate camera RAW development.
#[derive(Parser, Debug)]
#[command(name = "rawflow", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Develop RAW files (or folders of them) into JPEG, TIFF or PNG files.
    Develop(develop::DevelopArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Develop(args) => develop::run(args),
    }
}
