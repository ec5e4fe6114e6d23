/**
 * The constructs of a modal-cdk stack: `ModalProject` at the root, `ComfyApp`s in it, and in each app its
 * models (`HfModel`, `VolumeModel`, `UrlModel`), custom nodes (`CustomNode`) and `Endpoint`s running
 * `Workflow`s. Guides: docs/writing-a-stack.md.
 * @module modal-cdk
 */
export * from './modal-project';
export * from './comfy-app';
export * from './hf-model';
export * from './volume-model';
export * from './url-model';
export * from './custom-node';
export * from './endpoint';
export * from './workflow';
export * from './volume';
export * from './warnings';
export type { DurationInput } from '../lib/duration';
export type { FieldType, OutputFormat } from '../lib/synth/spec';
