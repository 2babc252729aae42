// Help for `aic` and each of its subcommands: `aic <command> --help` (or -h, or `aic help
// <command>`) prints one of these and does nothing else.

export const MAIN_HELP = `aic: neural media compression (@auralink/aic)

usage:
  aic compress <input> [-o out.aic] [options]     compress an image, Y4M video, WAV audio or any file
  aic decompress <in.aic> [-o out.ext] [options]  write back what a container holds
  aic info [image|audio|<manifest.json>]          the engine, ONNX Runtime, providers and models
  aic eval [image|audio] [options]                rate-distortion evaluation (bench/eval-*.mjs)
  aic bench [image|core|session] [options]        the benchmarks (bench/*.mjs)
  aic <command> --help                            help on one command
  aic --version

Exit status: 0 done, 1 bad input or an output that cannot be written, 2 a usage mistake.`;

const PROGRESS = `  --progress         draw a progress bar with an ETA on stderr even when it is not a terminal
  --no-progress      never draw it (by default it is drawn when stderr is a terminal)`;

export const COMMAND_HELP: Record<string, string> = {
  compress: `usage: aic compress <input> [-o out.aic] [options]

Compresses one file into an .aic container of the session's payloads. What the input is comes
from its first bytes: PNG, JPEG or WebP images; Y4M video (8-bit 4:2:0); WAV audio (PCM 8/16/24/32-bit
or float, any rate: rates the codec does not take are resampled, more than two channels are
downmixed to stereo, and the summary says so); anything else is carried as data. A file whose
name promises a format its bytes are not is refused (pass --type to say what it is).

options:
  -o, --output FILE  the container to write (default: <input>.aic); it must end in .aic or have
                     no extension
  --mode M           off, conservative, adaptive (default) or aggressive
  --target R         target compression ratio, 0 to 1 (overrides the mode's)
  --min-quality Q    quality floor, 0 to 1 (overrides the mode's)
  --max-latency MS   a latency budget per frame (files are not live: none by default)
  --screen           code images and video as screen content
  --type T           image, video, audio or data: skip detection
  --ep E             cpu, cuda or auto (default) execution provider
  --json             print the summary as JSON
${PROGRESS}
  -h, --help         this help`,
  decompress: `usage: aic decompress <in.aic> [-o out.ext] [options]

Writes back what a container made by 'aic compress' holds. The format written follows the
extension of -o: images as .png, .jpg/.jpeg or .webp; video as .y4m; audio as .wav; data as the
original bytes (any name). Without -o: <name>.decoded.<ext> beside the input.

options:
  -o, --output FILE  the file to write
  --ep E             cpu, cuda or auto (default) execution provider
  --json             print what was written as JSON
${PROGRESS}
  -h, --help         this help`,
  info: `usage: aic info [image|audio|<manifest.json>] [options]

Without an argument: the engine, ONNX Runtime, the execution providers built into it and those
the models actually run on (with the full reason when a provider fell back), and the models.
With 'image', 'audio' or a manifest path: that model's manifest.

options:
  --ep E             cpu, cuda or auto (default): the provider to try the models on
  --json             print as JSON
  -h, --help         this help`,
  eval: `usage: aic eval [image|audio] [options]

Runs a rate-distortion evaluation (minutes of work): 'image' (default, bench/eval-image.mjs)
or 'audio' (bench/eval-audio.mjs). 'aic eval image --help' and 'aic eval audio --help' list
their options.`,
  'eval image': `usage: aic eval image [--images DIR] [--json FILE] [--plot FILE.svg] [--model MANIFEST] [--limit N]

The image codec beside JPEG and WebP (through sharp) on a folder of images: bits per pixel,
PSNR, SSIM, MS-SSIM, BD-rate, and a rate-distortion plot (bench/eval-image.mjs).

  --images DIR       folder of images (default ../shared/data/kodak)
  --json FILE        write the results as JSON
  --plot FILE        write the rate-distortion plot (SVG)
  --model MANIFEST   the image model (default: the bundled one)
  --limit N          only the first N images`,
  'eval audio': `usage: aic eval audio [--audio DIR[,DIR...]] [--json FILE] [--plot FILE.svg] [--model MANIFEST] [--limit N]

The audio codec beside Opus (opusenc/opusdec) at the same bitrates on folders of WAV files:
kbit/s against SI-SNR and the audio score, and the time per frame (bench/eval-audio.mjs).

  --audio DIRS       comma-separated folders of WAV files (default ../shared/data/speech/vctk)
  --json FILE        write the results as JSON
  --plot FILE        write the plot (SVG)
  --model MANIFEST   the audio model (default: the bundled one)
  --limit N          only the first N files`,
  bench: `usage: aic bench [image|core|session] [options]

Runs a benchmark: 'session' (default, bench/session.mjs), 'image' (bench/image-speed.mjs) or
'core' (bench/core-overhead.mjs). 'aic bench <name> --help' lists its options.`,
  'bench image': `usage: aic bench image [--iterations N] [--images DIR] [--json FILE] [--model MANIFEST] [--level L]

Encode + decode time of one frame through the image codec at 640x360 and 1280x720, beside JPEG
(sharp, quality 75) in the same process (bench/image-speed.mjs).

  --iterations N     runs per size (default 60)
  --images DIR       source images (default ../shared/data/kodak)
  --json FILE        write the results as JSON
  --model MANIFEST   the image model (default: the bundled one)
  --level L          the quality level (default: the model's default)`,
  'bench core': `usage: aic bench core [--iterations N] [--json FILE]

What the native core adds per call on top of ONNX Runtime, against onnxruntime-node on the
same graph (bench/core-overhead.mjs).

  --iterations N     calls (default 300)
  --json FILE        write the results as JSON`,
  'bench session': `usage: aic bench session [--images DIR] [--speech DIR] [--limit N] [--json FILE]

The session API on real media as a server runs it: photos, a panned video and speech, in the
default adaptive mode (bench/session.mjs).

  --images DIR       photos (default ../shared/data/kodak)
  --speech DIR       speech WAVs (default ../shared/data/speech/vctk)
  --limit N          only the first N files of each
  --json FILE        write the results as JSON`,
  'info image': `usage: aic info image [--json]

The bundled image model's manifest: name, version, levels, graphs and training.`,
  'info audio': `usage: aic info audio [--json]

The bundled audio model's manifest: name, version, levels, graphs and training.`,
};

export const isHelpFlag = (a: string) => a === '--help' || a === '-h';
