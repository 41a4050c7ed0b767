/**
 * A folder of WAV files as a Music-PAW clip set (Deno: reads the file system), kept out of the
 * package entry so browser bundles need no `Deno`.
 * @module
 */

import { readWav } from "../../io/wav.ts";
import { melClips, type MelOptions, melSettings, type MusicSet, stratifiedSplit } from "./clips.ts";

/**
 * A folder of WAV files: `DIR/*.wav` (unlabelled) or `DIR/<label>/*.wav` (labelled by
 * subfolder), mixed to mono and resampled to the front end's rate. Clips are cut to the
 * shortest file (at most `maxSeconds`); a file shorter than one frame is refused by name.
 */
export async function wavFolderSet(
  dir: string,
  opts: MelOptions & { maxSeconds?: number; seed?: number } = {},
): Promise<MusicSet> {
  const files: { path: string; label: string | null }[] = [];
  const list = async (d: string) => {
    const out: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(d)) out.push(e);
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  };
  for (const e of await list(dir)) {
    if (e.isFile && /\.wav$/i.test(e.name)) files.push({ path: `${dir}/${e.name}`, label: null });
    if (e.isDirectory) {
      for (const f of await list(`${dir}/${e.name}`)) {
        if (f.isFile && /\.wav$/i.test(f.name)) {
          files.push({ path: `${dir}/${e.name}/${f.name}`, label: e.name });
        }
      }
    }
  }
  if (files.length < 2) {
    throw new Error(
      `wgrec musicpaw: ${dir} has ${files.length} .wav files; expected at least 2 ` +
        `(DIR/*.wav, or DIR/<label>/*.wav for labels)`,
    );
  }
  const labelled = files.every((f) => f.label !== null);
  const s = melSettings(opts);
  const sr = s.sampleRate;
  const signals = [];
  for (const f of files) {
    const a = await readWav(f.path, { mono: true, sampleRate: sr });
    const x = a.channels[0];
    if (x.length <= s.nFft / 2) {
      throw new Error(
        `wgrec musicpaw: ${f.path}: ${x.length} samples at ${sr} Hz is shorter than one frame ` +
          `(${s.nFft} samples, centred frames need more than ${s.nFft / 2})`,
      );
    }
    signals.push(x);
  }
  const len = Math.min(
    Math.round((opts.maxSeconds ?? 30) * sr),
    ...signals.map((x) => x.length),
  );
  const audio = new Float32Array(files.length * len);
  signals.forEach((x, i) => audio.set(x.subarray(0, len), i * len));
  const classes = labelled ? [...new Set(files.map((f) => f.label!))].sort() : [];
  const labels = labelled ? Int32Array.from(files, (f) => classes.indexOf(f.label!)) : null;
  const m = await melClips(audio, files.length, len, s);
  return {
    name: dir.split("/").filter(Boolean).pop() ?? dir,
    description: `WAV folder ${dir}: ${files.length} clips cut to ${(len / sr).toFixed(2)} s at ` +
      `${sr} Hz, ${labelled ? `${classes.length} labels (subfolders)` : "unlabelled"}; ` +
      `${m.frames} frames × ${m.nMels} mels`,
    mel: m,
    labels,
    classes,
    split: stratifiedSplit(labels, files.length, opts.seed ?? 0),
  };
}
