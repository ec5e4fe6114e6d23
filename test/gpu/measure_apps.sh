#!/usr/bin/env bash
# On the GPU machine (by hand; see test/gpu/measure.py): for each batch named, generate its random-weight
# files into /tmp/models (test/weights/generate.py), measure its endpoints into <out.json> (kept between
# batches and runs: a batch resumes), then delete the files (the machine has 64 GiB of disk).
#   bash test/gpu/measure_apps.sh <out.json> flux-schnell flux-dev sdxl z-image qwen-image qwen-edit wan wan-r2v
set -uo pipefail
out="$1"; shift
COMFY=${COMFY:-.cache/comfyui/ComfyUI}  # the ComfyUI tree whose node code runs (COMFY=<tree> for another release)
for batch in "$@"; do
  case "$batch" in
    flux-schnell) app=flux; only=(flux1-schnell-fp8.safetensors); loras=(); endpoints=(/flux) ;;
    flux-dev) app=flux; only=(flux1-dev.safetensors t5xxl_fp16.safetensors clip_l.safetensors ae.safetensors)
              loras=(--lora loras/ryla/character-example.safetensors=flux-dev-diffusion); endpoints=(/flux-dev /flux-dev-lora) ;;
    sdxl) app=instantid; only=(sd_xl_turbo_1.0_fp16.safetensors sdxl_lightning_4step.safetensors); loras=(); endpoints=(/sdxl-turbo /sdxl-lightning) ;;
    z-image) app=z-image; only=(z_image_turbo_bf16.safetensors qwen_3_4b.safetensors ae.safetensors)
             loras=(--lora loras/ryla/character-example.safetensors=z-image-diffusion); endpoints=(/z-image-simple /z-image-lora) ;;
    qwen-image) app=qwen-image; only=(qwen_image_2512_fp8_e4m3fn.safetensors qwen_2.5_vl_7b_fp8_scaled.safetensors qwen_image_vae.safetensors Qwen-Image-2512-Lightning-4steps-V1.0-fp32.safetensors)
                loras=(--lora loras/ryla-qwen/qwen-character-example.safetensors=qwen-image-fp8-diffusion); endpoints=(/qwen-image-2512-fast /qwen-image-2512 /qwen-image-2512-lora) ;;
    qwen-edit) app=qwen-edit; only=(qwen_image_edit_2511_bf16.safetensors qwen_2.5_vl_7b_fp8_scaled.safetensors qwen_image_vae.safetensors); loras=()
               endpoints=(/qwen-image-edit-2511 /qwen-image-inpaint-2511) ;;
    wan) app=wan26; only=(wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors umt5_xxl_fp8_e4m3fn_scaled.safetensors wan_2.1_vae.safetensors)
         loras=(--lora loras/ryla-wan/wan-character-example.safetensors=wan-14b-fp8-diffusion); endpoints=(/wan2.6 /wan2.6-lora) ;;
    wan-r2v) app=wan26; only=(wan2.1_vace_14B_fp16.safetensors umt5_xxl_fp8_e4m3fn_scaled.safetensors wan_2.1_vae.safetensors); loras=(); endpoints=(/wan2.6-r2v) ;;
    *) echo "measure_apps.sh: unknown batch $batch" >&2; exit 2 ;;
  esac
  # ENDPOINTS_ONLY="/flux-dev /flux": measure only these of the batch; MEASURE_ARGS="--warmup": more figures.
  if [ -n "${ENDPOINTS_ONLY:-}" ]; then
    kept=(); for e in "${endpoints[@]}"; do [[ " $ENDPOINTS_ONLY " == *" $e "* ]] && kept+=("$e"); done; endpoints=("${kept[@]}")
  fi
  echo "== $batch: generating"
  started=$SECONDS
  python3 test/weights/generate.py --manifest synth.out/manifest.json --app "$app" --out /tmp/models --comfy-dir "$COMFY" --only "${only[@]}" "${loras[@]}" 2>&1 | grep -v WARNING | grep -v '^{'
  echo "== $batch: generated in $((SECONDS - started)) s; measuring ${endpoints[*]}"
  python3 test/gpu/measure.py --comfy "$COMFY" --manifest synth.out/manifest.json --app "$app" --endpoints "${endpoints[@]}" --models /tmp/models --out "$out" ${MEASURE_ARGS:-} 2>&1 \
    | grep -v 'WARNING\|it/s\]\|s/it\]' | grep '^{"/' || true
  rm -rf /tmp/models
done
