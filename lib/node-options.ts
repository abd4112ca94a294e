/**
 * V8 flags every report function runs with (`NODE_OPTIONS`), and the benchmark's children too,
 * so that `npm run bench` measures what deploys.
 *
 * `--max-semi-space-size=4` (MiB): a young generation of at most 12 MiB instead of V8's 48. The
 * archive step streams: its objects die young in great numbers, and a large young generation only
 * holds more of them between scavenges. Measured in `npm run bench` (stage (b), 256 MB of CSV,
 * seven runs each): median peak RSS 202 → 174 MB, CPU about 5% higher.
 */
export const FUNCTION_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
