//! The `rvoip` command: SIP servers, tools and (later) a softphone.

mod lint;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// rvoip: a VoIP platform in Rust.
#[derive(Parser)]
#[command(name = "rvoip", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// SIP tools.
    Sip {
        #[command(subcommand)]
        command: SipCommand,
    },
}

#[derive(Subcommand)]
enum SipCommand {
    /// Check SIP messages: prints `FILE: OK <method|status> <call-id>` or
    /// `FILE: ERROR <code> <reason>` with the response a UAS would send.
    /// Exit 0 when all are valid, 1 when any is invalid, 2 on usage errors.
    Lint(lint::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sip {
            command: SipCommand::Lint(args),
        } => lint::run(&args),
    }
}
