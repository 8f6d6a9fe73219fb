#!/usr/bin/env bash
# The edgeflow test command: unit tests (cargo) + end-to-end tests on real
# Open vSwitch (userspace datapath) in Mininet.
#
# For a fresh Debian bookworm machine, as root:
#     scripts/test.sh                 # everything
#     scripts/test.sh -k failover     # extra arguments go to pytest
#
# Installs the Debian packages it needs (apt-get, non-interactive) when they
# are missing, needs a Rust toolchain (cargo) already installed, starts Open
# vSwitch if it is not running, builds the workspace in release mode, runs
# `cargo test`, then the Mininet tests with /usr/bin/python3 (Debian's
# Mininet package is only importable from the system interpreter).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: must run as root (Mininet and Open vSwitch need it)" >&2
    exit 1
fi

# ---- Debian packages --------------------------------------------------------
PKGS=(openvswitch-switch openvswitch-testcontroller mininet iperf3 ethtool tshark
      python3-pytest python3-pytest-timeout iputils-ping iproute2 net-tools psmisc procps)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"
fi

# ---- Rust toolchain ---------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/test.sh: cargo not found. Install a Rust toolchain (>= 1.87), e.g. with" >&2
    echo "rustup (https://rustup.rs), and make sure cargo is on PATH." >&2
    exit 1
fi

# ---- Open vSwitch -----------------------------------------------------------
if ! ovs-vsctl --timeout=5 show >/dev/null 2>&1; then
    echo "==> starting Open vSwitch"
    mkdir -p /var/run/openvswitch
    /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random
fi
ovs-vsctl --timeout=5 show >/dev/null

# ---- build + unit tests -----------------------------------------------------
echo "==> cargo build --release --workspace"
cargo build --release --workspace
echo "==> cargo test --workspace --release"
cargo test --workspace --release

# ---- end-to-end tests -------------------------------------------------------
export EDGEFLOW_BIN="${EDGEFLOW_BIN:-$REPO/target/release/edgeflow}"
echo "==> Mininet end-to-end tests (EDGEFLOW_BIN=$EDGEFLOW_BIN)"
mn -c >/dev/null 2>&1 || true
/usr/bin/python3 -m pytest -v -rA mininet-tests "$@"
