// Builds each island into ../static/islands/build/, which the Go binary
// embeds (internal/web/assets.go versions every URL by content hash, so the
// file names here stay plain). The build folder is not committed: without
// it the dashboard serves static/islands/placeholder/, which says how to
// build the real thing (`make islands`).
import { defineConfig } from "vite";

export default defineConfig({
  publicDir: false,
  // Relative URLs inside the bundle (there are none today) resolve next
  // to it under /static/islands/build/.
  base: "./",
  build: {
    outDir: "../static/islands/build",
    emptyOutDir: true,
    target: "es2020",
    // The strict Content-Security-Policy forbids inline scripts and
    // styles: no preload polyfill, no inlined assets, CSS in its own file.
    modulePreload: false,
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      // React Flow marks its modules "use client" for server-rendering
      // frameworks; it means nothing in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
      input: { "flow-editor": "src/flow-editor/main.tsx" },
      output: {
        format: "es",
        entryFileNames: "[name].js",
        chunkFileNames: "[name].js",
        assetFileNames: "[name][extname]",
      },
    },
  },
});
