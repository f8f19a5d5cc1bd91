# The npm wasms' pipeline, sourced by tools/build.sh (the package) and bench/size.sh (the floor
# of its shape, built the same way). Run from the repository's root.
#
# WASM_RUSTFLAGS: the wasm32 build's flags. Reference types let the glue hand JS values to the
# wasm through its externref table; the target features must reach wasm-bindgen (not stripped:
# wasm-opt strips them after). The source paths that panics' locations carry are cut to the
# crate's own (no build machine's directories in the package).
WASM_RUSTFLAGS="-C target-cpu=mvp -C target-feature=+bulk-memory,+sign-ext,+nontrapping-fptoint,+mutable-globals,+reference-types,+multivalue"
for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do WASM_RUSTFLAGS="$WASM_RUSTFLAGS --remap-path-prefix=$d="; done

# wasm_package WASM NAME GEN WASM_OUT GLUE_OUT: the cdylib WASM exported through wasm-bindgen
# (the CLI of the version Cargo.lock pins; its output in the directory GEN, emptied first), the
# wasm optimised by wasm-opt (binaryen from npm, never Debian's) into WASM_OUT, with its import,
# export and module names minified (wasm-opt prints the mapping, which the glue is then made to
# follow), and the glue made into a factory by tools/glue.mjs (GLUE_OUT).
wasm_package() {
  rm -rf "$3"
  wasm-bindgen --target web --no-typescript --out-dir "$3" --out-name "$2" "$1"
  tools/node_modules/.bin/wasm-opt "$3/${2}_bg.wasm" --minify-imports-and-exports-and-modules \
    -Oz --flatten --rereloop -Oz --converge --low-memory-unused --strip-debug --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$4" > "$3/names.json"
  node tools/glue.mjs "$3/$2.js" "$5" "$3/names.json" "$4"
}
