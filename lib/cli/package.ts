// The built package's one module: `npm run build` bundles this file and everything it imports (except
// `constructs`, which a user's own constructs share) into dist/modal-cdk.js. One module is read and
// compiled once, and the CLI and the user's app, which requires 'modal-cdk' in the same process, share it.
import '../zod-jitless';
export * from '../../constructs';
export * as assertions from '../assertions';
export { main } from './main';
