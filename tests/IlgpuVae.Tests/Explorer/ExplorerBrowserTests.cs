using System.Collections.ObjectModel;
using IlgpuVae.Data;
using IlgpuVae.Tests.Data;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using OpenQA.Selenium.Support.UI;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Explorer;

/// <summary>A fact that needs Debian's chromium and chromedriver (which .ci/run installs) and MNIST; skipped, visibly, without them.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Browser = "/usr/bin/chromium", Driver = "/usr/bin/chromedriver";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Browser) || !File.Exists(Driver))
            Skip = $"needs {Browser} and {Driver} (apt-get install chromium chromium-driver; .ci/run does)";
        else if (TestData.MnistDirectory is null)
            Skip = "MNIST is not available";
    }
}

/// <summary>The explorer page in headless chromium: dragging the point draws the library's decode, clicking a dot shows that test image.</summary>
public sealed class ExplorerBrowserTests(VaeExplorerFixture vae, CvaeExplorerFixture cvae, ITestOutputHelper output)
    : IClassFixture<VaeExplorerFixture>, IClassFixture<CvaeExplorerFixture>
{
    private static ChromeDriver StartBrowser()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromiumFactAttribute.Driver)!, Path.GetFileName(ChromiumFactAttribute.Driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumFactAttribute.Browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,900",
            "--force-color-profile=srgb");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static void WaitUntil(IWebDriver driver, string condition)
    {
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(50) };
        wait.Until(d => ((IJavaScriptExecutor)d).ExecuteScript($"return !!({condition});") is true);
    }

    private static T Script<T>(IWebDriver driver, string script, params object[] args) => (T)((IJavaScriptExecutor)driver).ExecuteScript(script, args)!;

    private static byte[] CanvasGray(IWebDriver driver, string id)
    {
        var data = Script<ReadOnlyCollection<object>>(driver,
            "const d = document.getElementById(arguments[0]).getContext('2d').getImageData(0, 0, 28, 28).data;" +
            "return Array.from({ length: 784 }, (_, i) => d[4 * i]);", id);
        return [.. data.Select(Convert.ToByte)];
    }

    // What the page draws for a probability: round(255 p), half up as JavaScript's Math.round.
    private static byte[] Expected(float[] pixels) => [.. pixels.Select(p => (byte)Math.Floor(Math.Clamp(p, 0f, 1f) * 255.0 + 0.5))];

    [ChromiumFact]
    public void Page_DragClickAndBadRequest_InHeadlessChromium()
    {
        using var driver = StartBrowser();
        driver.Navigate().GoToUrl(vae.Server.Url);
        WaitUntil(driver, "window.explorer && window.explorer.idle()");

        // Drag the point across the plane.
        var scatter = driver.FindElement(By.Id("scatter"));
        new Actions(driver).MoveToElement(scatter, -120, 90).ClickAndHold().MoveByOffset(30, -20).MoveByOffset(60, -40).MoveByOffset(25, -15)
            .Release().Perform();
        WaitUntil(driver, "window.explorer.idle()");
        var code = Script<ReadOnlyCollection<object>>(driver, "return window.explorer.state.drawnCode;").Select(Convert.ToSingle).ToArray();
        Assert.Equal(2, code.Length);
        Assert.NotEqual([0f, 0f], code);
        Assert.Equal(Expected(vae.Reference.Decode(code).Values), CanvasGray(driver, "decoded"));
        output.WriteLine($"dragged to z = [{string.Join(", ", code)}]; {Script<string>(driver, "return document.getElementById('timing').textContent;")}");

        // Click the most isolated dot: the test image beside its reconstruction appears.
        long index = Script<long>(driver, """
            const s = window.explorer.state, n = s.info.points;
            let best = 0, bestGap = -1;
            for (let i = 0; i < n; i++) {
              const [x, y] = window.explorer.screenOf(i);
              if (x < 10 || y < 10 || x > 470 || y > 470) continue;
              let gap = Infinity;
              for (let j = 0; j < n; j++) if (j !== i) { const [u, v] = window.explorer.screenOf(j); gap = Math.min(gap, Math.hypot(x - u, y - v)); }
              if (gap > bestGap) { bestGap = gap; best = i; }
            }
            return best;
            """);
        var at = Script<ReadOnlyCollection<object>>(driver, "return window.explorer.screenOf(arguments[0]);", index).Select(Convert.ToDouble).ToArray();
        new Actions(driver).MoveToElement(scatter, (int)Math.Round(at[0]) - scatter.Size.Width / 2, (int)Math.Round(at[1]) - scatter.Size.Height / 2)
            .Click().Perform();
        WaitUntil(driver, $"window.explorer.state.selected === {index} && window.explorer.state.shownTest === {index}");
        Assert.Equal(vae.Test.Image((int)index).ToArray(), CanvasGray(driver, "test-image"));
        Assert.Equal(Expected(vae.Reference.Reconstruct(vae.Test.Gather([(int)index])).Values), CanvasGray(driver, "test-reconstruction"));

        // A bad request from the page's origin is refused.
        object? status = ((IJavaScriptExecutor)driver).ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1];" +
            "fetch('/api/decode', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{\"codes\":[[1e999,0]]}' })" +
            ".then(r => done(r.status), () => done(-1));");
        Assert.Equal(400L, Convert.ToInt64(status));
    }

    [ChromiumFact]
    public void Page_Cvae_DrawsTheStyleAsEveryDigit()
    {
        using var driver = StartBrowser();
        driver.Navigate().GoToUrl(cvae.Server.Url);
        WaitUntil(driver, "window.explorer && window.explorer.idle()");
        driver.FindElement(By.CssSelector("#digit option[value='7']")).Click();
        WaitUntil(driver, "window.explorer.idle() && window.explorer.state.digit === 7");
        var code = Script<ReadOnlyCollection<object>>(driver, "return window.explorer.state.drawnCode;").Select(Convert.ToSingle).ToArray();

        Assert.Equal(Expected(cvae.Reference.Decode(code, [7]).Values), CanvasGray(driver, "decoded"));
        for (int digit = 0; digit < 10; digit++)
            Assert.Equal(Expected(cvae.Reference.Decode(code, [digit]).Values), CanvasGray(driver, $"every-{digit}"));

        string? screenshot = Environment.GetEnvironmentVariable("ILGPU_VAE_EXPLORER_SCREENSHOT");
        if (screenshot is not null)
            driver.GetScreenshot().SaveAsFile(screenshot);
    }
}
