namespace MoeDapr.Model;

/// <summary>Sizes of generated checkpoints.</summary>
public enum ModelPreset
{
    /// <summary>A few hundred KB: unit and process tests.</summary>
    Tiny,

    /// <summary>Tens of MB, loads in a second or two: the embedded default model of <c>moedapr up</c>.</summary>
    Demo,

    /// <summary>The size engine figures are measured on: hidden 1024, 8 layers, 16 experts of 1408, top-2, vocab 32000.</summary>
    Bench,
}
