#!/usr/bin/env python3
"""Screenshots of a running explorer ('ilgpu-vae explore'), driven through Debian's chromedriver (W3C WebDriver over HTTP).

Usage: screenshot.py URL OUT.png [DIGIT]
Drags the point, selects two test images as interpolation ends, draws a stroke and, for a CVAE, picks DIGIT.
Needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver); standard library only.
"""
import base64, json, subprocess, sys, time, urllib.error, urllib.request

PORT = 9515


def call(method, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["value"]
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()[:300]}")


def main():
    url, out = sys.argv[1], sys.argv[2]
    digit = sys.argv[3] if len(sys.argv) > 3 else None
    driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={PORT}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        options = {"binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1750,900"]}
        session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})["sessionId"]
        s = f"/session/{session}"
        run = lambda script, *args: call("POST", f"{s}/execute/sync", {"script": script, "args": list(args)})
        wait = lambda condition: next(True for _ in range(300) if run(f"return !!({condition});") or time.sleep(0.05))
        call("POST", f"{s}/url", {"url": url})
        wait("window.explorer && window.explorer.idle()")
        if digit is not None:
            run("const d = document.getElementById('digit'); d.value = arguments[0]; d.dispatchEvent(new Event('change'));", digit)
        # Pick the interpolation ends (two test images of different digits), then drag the point.
        run("""const st = window.explorer.state, n = st.info.points;
               let a = 0, b = 1; while (b < n && st.info.labels[b] === st.info.labels[a]) b++;
               window.explorer.select(a); document.getElementById('set-a').click();
               window.explorer.select(b); document.getElementById('set-b').click();""")
        centre = lambda id: run("const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                                "return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];", id)
        x, y = centre("scatter")
        pointer = [{"type": "pointerMove", "origin": "viewport", "x": x - 60, "y": y + 40},
                   {"type": "pointerDown", "button": 0}]
        pointer += [{"type": "pointerMove", "origin": "pointer", "x": 6, "y": -4, "duration": 20} for _ in range(15)]
        pointer += [{"type": "pointerUp", "button": 0}]
        call("POST", f"{s}/actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": pointer}]})
        wait("window.explorer.idle()")
        run("document.getElementById('t').value = 40; document.getElementById('t').dispatchEvent(new Event('input'));")
        x, y = centre("draw")
        stroke = [{"type": "pointerMove", "origin": "viewport", "x": x - 50, "y": y - 80},
                  {"type": "pointerDown", "button": 0}]
        for dx, dy in [(30, -10), (40, 10), (10, 40), (-30, 50), (-40, 40), (60, 0), (40, 0)]:
            stroke.append({"type": "pointerMove", "origin": "pointer", "x": dx, "y": dy, "duration": 30})
        stroke.append({"type": "pointerUp", "button": 0})
        call("POST", f"{s}/actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": stroke}]})
        run("window.explorer.select(window.explorer.state.a);")
        time.sleep(1.5)
        with open(out, "wb") as f:
            f.write(base64.b64decode(call("GET", f"{s}/screenshot")))
        call("DELETE", s)
    finally:
        driver.terminate()


if __name__ == "__main__":
    main()
