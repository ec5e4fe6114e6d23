"""The architectures test/weights/generate.py builds: each a function returning the file's tensors as
`name → meta tensor` (shapes and dtypes, no memory), built with ComfyUI's own classes and configs and laid
out as ComfyUI's loader for that file reads it; and a check that ComfyUI's detection recognises the layout.

Configs are ComfyUI's (comfy/model_detection.py: what detect_unet_config returns for these files;
comfy/sd.py: the VAE configs). Dtypes are the real files' (fp16, bf16, fp8 e4m3 for the matrices of
"fp8" files, whose vectors stay bf16).
"""

import torch

F8 = torch.float8_e4m3fn

SDXL_UNET = {
    "use_checkpoint": False,
    "image_size": 32,
    "out_channels": 4,
    "use_spatial_transformer": True,
    "legacy": False,
    "num_classes": "sequential",
    "adm_in_channels": 2816,
    "in_channels": 4,
    "model_channels": 320,
    "num_res_blocks": [2, 2, 2],
    "transformer_depth": [0, 0, 2, 2, 10, 10],
    "channel_mult": [1, 2, 4],
    "transformer_depth_middle": 10,
    "use_linear_in_transformer": True,
    "context_dim": 2048,
    "num_head_channels": 64,
    "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10],
    "use_temporal_attention": False,
    "use_temporal_resblock": False,
}
FLUX_UNET = {
    "image_model": "flux",
    "axes_dim": [16, 56, 56],
    "num_heads": 24,
    "mlp_ratio": 4.0,
    "theta": 10000,
    "out_channels": 16,
    "qkv_bias": True,
    "in_channels": 16,
    "hidden_size": 3072,
    "context_in_dim": 4096,
    "patch_size": 2,
    "vec_in_dim": 768,
    "depth": 19,
    "depth_single_blocks": 38,
}
Z_IMAGE_UNET = {
    "image_model": "lumina2",
    "patch_size": 2,
    "in_channels": 16,
    "dim": 3840,
    "cap_feat_dim": 2560,
    "n_layers": 30,
    "qk_norm": True,
    "n_heads": 30,
    "n_kv_heads": 30,
    "axes_dims": [32, 48, 48],
    "axes_lens": [1536, 512, 512],
    "rope_theta": 256.0,
    "ffn_dim_multiplier": 8.0 / 3.0,
    "z_image_modulation": True,
    "time_scale": 1000.0,
    "pad_tokens_multiple": 32,
}
QWEN_IMAGE_UNET = {"image_model": "qwen_image", "in_channels": 64, "num_layers": 60}
WAN_14B_UNET = {
    "image_model": "wan2.1",
    "dim": 5120,
    "out_dim": 16,
    "num_heads": 40,
    "ffn_dim": 13824,
    "num_layers": 40,
    "patch_size": (1, 2, 2),
    "freq_dim": 256,
    "window_size": (-1, -1),
    "qk_norm": True,
    "cross_attn_norm": True,
    "eps": 1e-6,
    "in_dim": 16,
    "model_type": "t2v",
}
WAN_VACE_14B_UNET = {**WAN_14B_UNET, "model_type": "vace", "vace_in_dim": 96, "vace_layers": 8}
WAN_21_VAE = {
    "dim": 96,
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
}
SD_VAE = {
    "double_z": True,
    "z_channels": 4,
    "resolution": 256,
    "in_channels": 3,
    "out_ch": 3,
    "ch": 128,
    "ch_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_resolutions": [],
    "dropout": 0.0,
}
FLUX_VAE = {**SD_VAE, "z_channels": 16}


def _meta(build):
    with torch.device("meta"):
        return build()


def _cast(state, dtype, matrices=None):
    """Every floating tensor to `dtype`; with `matrices` (fp8 files), the linear layers' weight matrices to
    that instead (embeddings, convolutions, vectors and a vision tower keep `dtype`, as ComfyUI's fp8 files
    have them)."""

    def pick(k, v):
        linear = (
            v.ndim == 2 and not any(part in k for part in ("embed", "shared", "norm")) and not k.startswith("visual.")
        )
        return matrices if matrices is not None and linear else dtype

    return {k: v.to(pick(k, v)) if v.is_floating_point() else v for k, v in state.items()}


def _unet(config, dtype):
    import comfy.model_detection

    model_config = comfy.model_detection.model_config_from_unet_config(dict(config))
    model_config.set_inference_dtype(dtype, None)
    model = _meta(lambda: model_config.get_model({}, device=torch.device("meta")))
    return model_config, model


def _diffusion(config, dtype, matrices=None):
    """A diffusion model file as UNETLoader reads it: the model built from ComfyUI's `config`, in `dtype`."""
    _, model = _unet(config, torch.bfloat16 if matrices is not None else dtype)
    return _cast(model.diffusion_model.state_dict(), dtype, matrices)


def _sd_vae():
    import comfy.ldm.models.autoencoder as ae

    return _meta(lambda: ae.AutoencoderKL(ddconfig=SD_VAE, embed_dim=4)).state_dict()


def _flux_vae():
    import comfy.ldm.models.autoencoder as ae

    return _meta(
        lambda: ae.AutoencodingEngine(
            regularizer_config={"target": "comfy.ldm.models.autoencoder.DiagonalGaussianRegularizer"},
            encoder_config={"target": "comfy.ldm.modules.diffusionmodules.model.Encoder", "params": FLUX_VAE},
            decoder_config={"target": "comfy.ldm.modules.diffusionmodules.model.Decoder", "params": FLUX_VAE},
        )
    ).state_dict()


def _clip_l(dtype):
    import comfy.sd1_clip

    return _meta(lambda: comfy.sd1_clip.SDClipModel(device="meta", dtype=dtype)).transformer.state_dict()


def _t5xxl(dtype):
    import comfy.text_encoders.sd3_clip

    return _meta(lambda: comfy.text_encoders.sd3_clip.T5XXLModel(device="meta", dtype=dtype)).transformer.state_dict()


def _single_te(factory, dtype):
    """A text encoder file as CLIPLoader reads it: the state dict of the one model inside ComfyUI's wrapper."""
    wrapper = _meta(lambda: factory()(device="meta", dtype=dtype))
    return getattr(wrapper, wrapper.clip).transformer.state_dict()


def _wan_vae():
    import comfy.ldm.wan.vae

    return _meta(lambda: comfy.ldm.wan.vae.WanVAE(**WAN_21_VAE)).state_dict()


def lora_of(base):
    """A rank-32 LoRA (lora_down/lora_up, ComfyUI's generic `diffusion_model.<key>` names) over every linear
    weight of `base`'s diffusion model: the shape of a character or distillation LoRA."""

    def build():
        dtype = torch.float32 if base.endswith("-fp32") else torch.bfloat16
        unet = BUILDERS[base.removesuffix("-fp32")]()
        state = {}
        for k, v in unet.items():
            if v.ndim == 2 and k.endswith(".weight") and not any(p in k for p in ("embed", "norm")):
                name = f"diffusion_model.{k.removesuffix('.weight')}"
                state[f"{name}.lora_down.weight"] = torch.empty((32, v.shape[1]), dtype=dtype, device="meta")
                state[f"{name}.lora_up.weight"] = torch.empty((v.shape[0], 32), dtype=dtype, device="meta")
        return state

    return build


def sdxl_checkpoint():
    """SDXL checkpoint (UNet, CLIP-L + CLIP-G, VAE), fp16, in the checkpoint layout."""
    model_config, model = _unet(SDXL_UNET, torch.float16)
    clip = _meta(lambda: model_config.clip_target().clip(device="meta", dtype=torch.float16))
    state = model.state_dict_for_saving(clip.state_dict(), _sd_vae())
    return _cast(state, torch.float16)


def flux_dev_diffusion():
    """FLUX.1 dev diffusion model (guidance-distilled), bf16, as UNETLoader reads it."""
    return _diffusion({**FLUX_UNET, "guidance_embed": True}, torch.bfloat16)


def flux_schnell_fp8_checkpoint():
    """FLUX.1 schnell checkpoint as Comfy-Org ships it: fp8 UNet and T5-XXL, fp16 CLIP-L, the 16-channel VAE."""
    model_config, model = _unet({**FLUX_UNET, "guidance_embed": False}, torch.bfloat16)
    unet = _cast(model.diffusion_model.state_dict(), torch.bfloat16, F8)
    clip = {
        **{f"clip_l.transformer.{k}": v for k, v in _cast(_clip_l(torch.float16), torch.float16).items()},
        **{f"t5xxl.transformer.{k}": v for k, v in _cast(_t5xxl(torch.bfloat16), torch.bfloat16, F8).items()},
    }
    state = {f"model.diffusion_model.{k}": v for k, v in unet.items()}
    state.update(model_config.process_clip_state_dict_for_saving(clip))
    state.update(model_config.process_vae_state_dict_for_saving(_cast(_flux_vae(), torch.float16)))
    return state


def z_image_diffusion():
    """Z-Image Turbo diffusion model (Lumina 2 family, 6B), bf16."""
    return _diffusion(Z_IMAGE_UNET, torch.bfloat16)


def qwen_image_fp8_diffusion():
    """Qwen-Image (2512) diffusion model (20B MMDiT), fp8 e4m3 matrices."""
    return _diffusion(QWEN_IMAGE_UNET, torch.bfloat16, F8)


def qwen_image_bf16_diffusion():
    """Qwen-Image-Edit (2511) diffusion model: the same MMDiT, bf16."""
    return _diffusion(QWEN_IMAGE_UNET, torch.bfloat16)


def wan_14b_fp8_diffusion():
    """Wan 2.2 text-to-video 14B expert (the high- and low-noise files share it), fp8 e4m3 matrices."""
    return _diffusion(WAN_14B_UNET, torch.float16, F8)


def wan_vace_14b_fp16():
    """Wan 2.1 VACE 14B (the 14B text-to-video model with 8 VACE blocks for reference/control video), fp16."""
    return _diffusion(WAN_VACE_14B_UNET, torch.float16)


def qwen3_4b():
    import comfy.text_encoders.z_image

    return _cast(_single_te(comfy.text_encoders.z_image.te, torch.bfloat16), torch.bfloat16)


def qwen25_vl_7b_fp8():
    import comfy.text_encoders.qwen_image

    return _cast(_single_te(comfy.text_encoders.qwen_image.te, torch.bfloat16), torch.bfloat16, F8)


def umt5_xxl_fp8():
    """UMT5-XXL as Wan's CLIPLoader reads it, with its tokenizer inside (`spiece_model`, as the real file has
    it). The real SentencePiece model is data we do not have: a small one is trained on made-up sentences.
    Prompts are padded to 512 tokens either way, so the encoder's cost is the same."""
    import comfy.text_encoders.wan

    state = _cast(_single_te(comfy.text_encoders.wan.te, torch.bfloat16), torch.bfloat16, F8)
    state["spiece_model"] = made_up_spiece()
    return state


def made_up_spiece():
    """A SentencePiece model (as a uint8 tensor) trained on a fixed set of made-up English sentences."""
    import io

    import sentencepiece

    words = "a an the woman man cat dog walking running on in at beach city street forest night day sunny rainy portrait photo of with red blue green light".split()
    lines = [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(12)) for i in range(2000)]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=40,
        model_type="unigram",
        hard_vocab_limit=False,
        num_threads=1,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
    )
    return torch.frombuffer(bytearray(model.getvalue()), dtype=torch.uint8)


def wan_vae():
    """The Wan 2.1 VAE (also Qwen-Image's), bf16."""
    return _cast(_wan_vae(), torch.bfloat16)


def t5xxl_fp16():
    return _cast(_t5xxl(torch.float16), torch.float16)


def clip_l():
    return _cast(_clip_l(torch.float16), torch.float16)


def flux_vae():
    return _cast(_flux_vae(), torch.float32)


def check(kind, state):
    """Raises unless ComfyUI's own detection reads `state` as `kind`."""
    import comfy.model_detection
    import comfy.sd

    def unet_class(prefix):
        config = comfy.model_detection.model_config_from_unet(state, prefix)
        return type(config).__name__ if config is not None else None

    expected = {
        "sdxl-checkpoint": lambda: unet_class("model.diffusion_model.") == "SDXL",
        "flux-dev-diffusion": lambda: unet_class("") == "Flux",
        "flux-schnell-fp8-checkpoint": lambda: (
            unet_class("model.diffusion_model.") == "FluxSchnell"
            and "text_encoders.t5xxl.transformer.encoder.block.23.layer.1.DenseReluDense.wi_1.weight" in state
        ),
        "t5xxl-fp16": lambda: comfy.sd.detect_te_model(state) == comfy.sd.TEModel.T5_XXL,
        "clip-l": lambda: (
            "text_model.encoder.layers.11.mlp.fc1.weight" in state
            and "text_model.encoder.layers.12.mlp.fc1.weight" not in state
        ),
        "flux-vae": lambda: state["decoder.conv_in.weight"].shape[1] == 16 and "post_quant_conv.weight" not in state,
        "z-image-diffusion": lambda: unet_class("") == "ZImage",
        "qwen-image-fp8-diffusion": lambda: unet_class("") == "QwenImage",
        "qwen-image-bf16-diffusion": lambda: unet_class("") == "QwenImage",
        "wan-14b-fp8-diffusion": lambda: unet_class("") in ("WAN21_T2V", "WAN22_T2V"),
        "wan-vace-14b-fp16": lambda: unet_class("") == "WAN21_Vace",
        "qwen3-4b": lambda: comfy.sd.detect_te_model(state) == comfy.sd.TEModel.QWEN3_4B,
        "qwen25-vl-7b-fp8": lambda: comfy.sd.detect_te_model(state) == comfy.sd.TEModel.QWEN25_7B,
        "umt5-xxl-fp8": lambda: comfy.sd.detect_te_model(state) == comfy.sd.TEModel.T5_XXL and "spiece_model" in state,
        "wan-vae": lambda: (
            state["decoder.head.0.gamma"].shape[0] == 96
            and "decoder.upsamples.0.upsamples.0.residual.2.weight" not in state
        ),
    }
    if kind.startswith("lora:"):
        if not any(k.endswith(".lora_up.weight") for k in state):
            raise RuntimeError(f"{kind}: no LoRA weights")
        return
    if not expected[kind]():
        raise RuntimeError(f"ComfyUI's detection does not read the {kind} layout as {kind}")


BUILDERS = {
    "sdxl-checkpoint": sdxl_checkpoint,
    "flux-dev-diffusion": flux_dev_diffusion,
    "flux-schnell-fp8-checkpoint": flux_schnell_fp8_checkpoint,
    "t5xxl-fp16": t5xxl_fp16,
    "clip-l": clip_l,
    "flux-vae": flux_vae,
    "z-image-diffusion": z_image_diffusion,
    "qwen-image-fp8-diffusion": qwen_image_fp8_diffusion,
    "qwen-image-bf16-diffusion": qwen_image_bf16_diffusion,
    "wan-14b-fp8-diffusion": wan_14b_fp8_diffusion,
    "wan-vace-14b-fp16": wan_vace_14b_fp16,
    "qwen3-4b": qwen3_4b,
    "qwen25-vl-7b-fp8": qwen25_vl_7b_fp8,
    "umt5-xxl-fp8": umt5_xxl_fp8,
    "wan-vae": wan_vae,
}
BUILDERS.update(
    {
        f"lora:{base}": lora_of(base)
        for base in (
            "flux-dev-diffusion",
            "z-image-diffusion",
            "qwen-image-fp8-diffusion",
            "qwen-image-fp8-diffusion-fp32",
            "wan-14b-fp8-diffusion",
        )
    }
)

# Which architecture each declared file is, by file name: facts about the models (reference/models.md).
FILES = {
    "sd_xl_base_1.0.safetensors": "sdxl-checkpoint",
    "sd_xl_turbo_1.0_fp16.safetensors": "sdxl-checkpoint",
    "sdxl_lightning_4step.safetensors": "sdxl-checkpoint",
    "flux1-dev.safetensors": "flux-dev-diffusion",
    "flux1-schnell-fp8.safetensors": "flux-schnell-fp8-checkpoint",
    "t5xxl_fp16.safetensors": "t5xxl-fp16",
    "clip_l.safetensors": "clip-l",
    "ae.safetensors": "flux-vae",
    "z_image_turbo_bf16.safetensors": "z-image-diffusion",
    "qwen_3_4b.safetensors": "qwen3-4b",
    "qwen_image_2512_fp8_e4m3fn.safetensors": "qwen-image-fp8-diffusion",
    "qwen_image_edit_2511_bf16.safetensors": "qwen-image-bf16-diffusion",
    "qwen_2.5_vl_7b_fp8_scaled.safetensors": "qwen25-vl-7b-fp8",
    "qwen_image_vae.safetensors": "wan-vae",
    "Qwen-Image-2512-Lightning-4steps-V1.0-fp32.safetensors": "lora:qwen-image-fp8-diffusion-fp32",
    "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors": "wan-14b-fp8-diffusion",
    "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors": "wan-14b-fp8-diffusion",
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors": "umt5-xxl-fp8",
    "wan2.1_vace_14B_fp16.safetensors": "wan-vace-14b-fp16",
    "wan_2.1_vae.safetensors": "wan-vae",
}
