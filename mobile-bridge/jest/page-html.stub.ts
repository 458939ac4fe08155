// The real page is tested in Chromium (test/browser/bridge.browser.test.ts); here it is a marker.
export const PAGE_HTML = '<!doctype html><title>modelfleet bridge (stub)</title>';
