//! The `beaconport` command under a test name (see Cargo.toml).

fn main() -> std::process::ExitCode {
    beaconport_cli::main()
}
