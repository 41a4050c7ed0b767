/**
 * Music-PAW / MART (../shared/specs/music-paw.md): part-whole crops of music clips, a shared
 * conv backbone over log-mel frames, part-whole cross-attention between adjacent levels and
 * hierarchical InfoNCE, the no-hierarchy two-view baseline, the linear probe, the seeded
 * part-whole music generator and its clip sets (a WAV folder reader is in `wav_folder.ts`).
 * @module
 */

export { MUSICPAW_DEFAULTS, resolveMusicPaw } from "./config.ts";
export type { MusicObjective, MusicPawConfig, ResolvedMusicPaw } from "./config.ts";
export { MIN_CROP_FRAMES, MusicEncoder, MusicPaw, PartWholeBlock } from "./model.ts";
export type { MusicLoss } from "./model.ts";
export { DEFAULT_AUGMENT, levelCrops, twoViews, usableFrames, wholeClips } from "./crops.ts";
export type { Augment, Crops, MelClips } from "./crops.ts";
export { accuracy as probeAccuracy, fitLinearProbe } from "./probe.ts";
export type { LinearProbe, ProbeOptions as LinearProbeOptions } from "./probe.ts";
export { generatedSet, melClips, melSettings, stratifiedSplit } from "./clips.ts";
export type { MelOptions, MusicSet } from "./clips.ts";
export { MusicPawTask } from "./task.ts";
export type { MusicPawTaskOptions } from "./task.ts";
export { generateMusic, MUSIC_STYLES } from "./data.ts";
export type { MusicData, MusicNote, MusicOptions, MusicStyle } from "./data.ts";
