//! The `beaconport` binary; everything lives in the library so tests can run the same code.

// The views allocate and free many small objects from two threads (decoding, applying); glibc's
// arenas keep what one thread frees from another, mimalloc gives it back.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beaconport_cli::main()
}
