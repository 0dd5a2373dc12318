# Sourced by the tools scripts: common paths and settings.
AIACCEL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIACCEL_ROOT
[ -d /usr/local/cuda/bin ] && case ":$PATH:" in *":/usr/local/cuda/bin:"*) ;; *) export PATH="$PATH:/usr/local/cuda/bin" ;; esac
export AIA_DATA_DIR="${AIA_DATA_DIR:-$AIACCEL_ROOT/../shared/aia}"
AIACCEL_BUILD="${AIACCEL_BUILD:-$AIACCEL_ROOT/build}"
# oneMKL from tools/mkl-setup (optional): its pkg-config files, so meson's -Dmkl=auto finds it.
if [ -d "$AIACCEL_ROOT/.mkl/venv/lib/pkgconfig" ]; then
  case ":${PKG_CONFIG_PATH:-}:" in *":$AIACCEL_ROOT/.mkl/venv/lib/pkgconfig:"*) ;;
    *) export PKG_CONFIG_PATH="$AIACCEL_ROOT/.mkl/venv/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" ;; esac
fi
# Configure (once) and build. Extra arguments go to `meson setup`.
aiaccel_build() {
  if [ ! -f "$AIACCEL_BUILD/build.ninja" ]; then
    meson setup "$AIACCEL_BUILD" "$AIACCEL_ROOT" --buildtype=release "$@" >"$AIACCEL_BUILD.setup.log" 2>&1 \
      || { cat "$AIACCEL_BUILD.setup.log"; return 1; }
    grep -A4 "Optional parts" "$AIACCEL_BUILD.setup.log" || true
  fi
  ninja -C "$AIACCEL_BUILD" -j "${AIACCEL_JOBS:-2}" | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
  test "${PIPESTATUS[0]}" -eq 0
}
