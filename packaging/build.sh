#!/usr/bin/env bash
# Build roomcall with PyInstaller, using the project's virtual environment.
#
#   packaging/build.sh              onedir bundle   -> dist/roomcall/roomcall
#   packaging/build.sh --onefile    one executable  -> dist/onefile/roomcall
#   packaging/build.sh --clean      discard PyInstaller's cache first (full rebuild)
#
# Needs .venv with the `package` extra (./scripts/setup installs it). Set ROOMCALL_PYTHON to use
# another interpreter. Prints the build time and the bundle size, then runs `--version` from
# the result as a smoke check. Works on Linux, macOS and Windows (Git Bash).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ONEFILE=0
CLEAN=""  # a plain string, not an array: macOS ships bash 3.2 (set -u + empty array fails)
for arg in "$@"; do
    case "$arg" in
        --onefile) ONEFILE=1 ;;
        --clean) CLEAN=--clean ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

if [ -n "${ROOMCALL_PYTHON:-}" ]; then
    PY=$ROOMCALL_PYTHON
elif [ -x .venv/bin/python ]; then
    PY=.venv/bin/python
elif [ -x .venv/Scripts/python.exe ]; then
    PY=.venv/Scripts/python.exe
else
    echo "build.sh: no .venv here; run ./scripts/setup first" >&2
    exit 1
fi

if [ "$ONEFILE" = 1 ]; then
    DIST=dist/onefile
    WORK=build/pyinstaller-onefile
else
    DIST=dist
    WORK=build/pyinstaller
fi

start=$(date +%s)
ROOMCALL_ONEFILE=$ONEFILE "$PY" -m PyInstaller --noconfirm --log-level WARN $CLEAN \
    --distpath "$DIST" --workpath "$WORK" packaging/roomcall.spec
seconds=$(( $(date +%s) - start ))

case "$(uname -s)" in
    MINGW*|MSYS*|CYGWIN*) EXE_SUFFIX=.exe ;;
    *) EXE_SUFFIX= ;;
esac
if [ "$ONEFILE" = 1 ]; then
    OUT=$DIST/roomcall$EXE_SUFFIX
    BIN=$OUT
else
    OUT=$DIST/roomcall
    BIN=$OUT/roomcall$EXE_SUFFIX
fi

echo "built $OUT in ${seconds} s"
echo "size: $(du -sh "$OUT" | cut -f1)"
if [ -d dist/roomcall.app ] && [ "$ONEFILE" = 0 ]; then
    echo "macOS app: dist/roomcall.app ($(du -sh dist/roomcall.app | cut -f1))"
fi
"$BIN" --version
