// A static export (out/), so the test serves it like any static host would.
export default { output: 'export' };
