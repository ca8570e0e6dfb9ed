// `node dist/dev/image/main.js` (`make image`): builds Baton's image with
// buildah (the stand-in base first, once per machine) and exports it to
// <cache>/images/baton.oci.tar. The image check (e2e/image.e2e.ts) does the
// same build and then looks inside the image.
import { resolve } from 'node:path';
import { buildImage } from './build-image.js';

const build = await buildImage(resolve('.'), (line) => console.log(line));
console.log(
  `[image] ${build.name} (${build.id.slice(0, 12)}) built in ${build.budSeconds.toFixed(1)} s, ${build.summary.cached} of ${build.summary.steps} steps from the layer cache; exported to ${build.archive ?? '(not exported)'} (${(build.archiveBytes / 1e6).toFixed(0)} MB) in ${build.pushSeconds.toFixed(1)} s`,
);
