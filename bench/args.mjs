// Command-line options of the benchmark scripts: `--name value`.
const argv = process.argv.slice(2);

/** The value after `--name`, or `fallback`. */
export function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}
