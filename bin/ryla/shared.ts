/** What every RYLA app shares: the `ryla-models` volume, the runtime secret, and the FLUX.1-dev model set. */
import { type ComfyApp, HfModel, type Volume } from '../../constructs';

/** The ComfyUI release of the apps that need Z-Image, Qwen-Edit 2511 and Wan 2.2 nodes (reference/models.md §1.4). */
export const COMFY_NEW = '0.10.0';

export interface RylaShared {
  /** `ryla-models` at `/root/models`: trained and uploaded LoRAs. */
  readonly models: Volume;
  /** Modal Secrets every app gets at run time (today's apps all mount `huggingface`). */
  readonly secrets: string[];
}

/**
 * FLUX.1-dev as separate UNet, text encoders and VAE (ryla-flux and ryla-instantid). The official UNet is
 * gated, so the build uses the Hugging Face secret; the VAE comes from a token-free copy with the same
 * file (reference/models.md §1.5).
 */
export function addFluxDevModels(app: ComfyApp): void {
  new HfModel(app, 'FluxDevUnet', {
    repo: 'black-forest-labs/FLUX.1-dev',
    file: 'flux1-dev.safetensors',
    target: 'diffusion_models',
    gated: true,
    sizeGb: 23.8,
  });
  new HfModel(app, 'T5xxl', {
    repo: 'comfyanonymous/flux_text_encoders',
    file: 't5xxl_fp16.safetensors',
    target: 'text_encoders',
    sizeGb: 9.79,
  });
  new HfModel(app, 'ClipL', {
    repo: 'comfyanonymous/flux_text_encoders',
    file: 'clip_l.safetensors',
    target: 'text_encoders',
    sizeGb: 0.246,
  });
  new HfModel(app, 'FluxVae', {
    repo: 'Comfy-Org/z_image_turbo',
    file: 'split_files/vae/ae.safetensors',
    target: 'vae',
    sizeGb: 0.335,
  });
}
