#!/usr/bin/env bash
# The workspace in a real headless browser: installs Debian's chromium and chromedriver when
# missing, then runs the browser tests (a seeded `beaconport serve` on loopback, driven over
# WebDriver). Screenshots of each page are written to target/browser-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing chromium and chromium-driver (Debian packages)"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version
chromedriver --version

cargo test -p beaconport-tests --test browser -- --nocapture
echo "screenshots: $(pwd)/target/browser-screenshots/"
