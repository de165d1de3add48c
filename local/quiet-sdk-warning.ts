/*
 * The AWS SDK warns on every start that releases after January 2027 need Node 22; this project
 * pins the SDK with its lock file and runs the Lambdas on Node 24, so locally it is noise.
 * Every other warning still shows. Import this first.
 */
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!`${warning.name} ${warning.message}`.includes('NodeVersionSupportWarning')) console.error(warning.stack ?? String(warning));
});
