/**
 * Versions the generated CI workflow installs and deploy asks for. MODAL_CLI_VERSION is the `modal` release
 * the tests import the synthesized apps with (requirements-test.txt; a test keeps the two equal).
 */
export const MODAL_CLI_VERSION = '1.6.4';
export const NODE_VERSION = '20';
/** The ComfyUI release a project runs unless it says otherwise (ModalProject comfyVersion, init, import): the newest whose node schemas synth has. */
export const DEFAULT_COMFY_VERSION = '0.28.2';
