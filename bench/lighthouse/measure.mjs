// Lighthouse on the party's pages, as its command line runs it (chrome-launcher's Chrome, the
// default mobile profile, simulated throttling): `runs` times each page, each time twice, a
// first visit (cache emptied) and a repeat visit (cache kept). Started by bench/lighthouse.py,
// which serves the demo and reads the reports; the job comes on standard input as JSON:
//   {"base": "http://127.0.0.1:PORT", "reports": "/folder", "runs": 3,
//    "pages": [{"key": "status_case", "path": "/status/case",
//               "signIn": {"number": "...", "code": "..."}}, ...]}
// It writes <reports>/<key>-<run>-first.json and <key>-<run>-repeat.json (Lighthouse results).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const ATTEMPTS = 3;
const job = JSON.parse(readFileSync(0, "utf8"));
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox"],
});
try {
  for (const page of job.pages) {
    if (page.signIn) await signIn(page.signIn);
    const url = job.base + page.path;
    for (let run = 1; run <= job.runs; run++) {
      for (const [visit, disableStorageReset] of [["first", false], ["repeat", true]]) {
        const result = await audit(url, disableStorageReset);
        if (result.lhr.finalDisplayedUrl !== url) {
          throw new Error(`${url} ended at ${result.lhr.finalDisplayedUrl}`);
        }
        writeFileSync(join(job.reports, `${page.key}-${run}-${visit}.json`), result.report);
      }
    }
  }
} finally {
  await chrome.kill();
}

// A run that Lighthouse itself reports as failed (on a busy machine its trace sometimes misses
// the navigation: NO_NAVSTART) is run again, as its message asks.
async function audit(url, disableStorageReset) {
  for (let attempt = 1; ; attempt++) {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      disableStorageReset,
    });
    if (!result.lhr.runtimeError) return result;
    if (attempt === ATTEMPTS) throw new Error(`${url}: ${result.lhr.runtimeError.message}`);
  }
}

// The party's look-up, through the form as a party types it: the portal session is a cookie,
// which Lighthouse keeps (it empties the cache, not the cookies).
async function signIn({ number, code }) {
  const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
  try {
    const tab = await browser.newPage();
    await tab.goto(`${job.base}/status`);
    await tab.type("#case_number", number);
    await tab.type("#access_code", code);
    await Promise.all([tab.waitForNavigation(), tab.click("form.portal-form [type=submit]")]);
    if (!tab.url().endsWith("/status/case")) throw new Error(`the look-up ended at ${tab.url()}`);
    await tab.close();
  } finally {
    await browser.disconnect();
  }
}
