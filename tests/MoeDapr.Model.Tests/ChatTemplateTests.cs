namespace MoeDapr.Model.Tests;

public sealed class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "Be brief."),
        new("user", "Hi!"),
        new("assistant", "Hello."),
        new("user", "What is 2+2?"),
    ];

    [Fact]
    public void Render_Qwen3ChatML_RendersEveryTurnAndTheAssistantPrompt()
    {
        var text = ChatTemplates.ForFamily(ModelFamily.Qwen3Moe).Render(Conversation);

        Assert.Equal(
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
            + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
            text);
    }

    [Fact]
    public void Render_Qwen2ChatMLWithoutSystem_InsertsTheDefaultSystemPrompt()
    {
        var text = ChatTemplates.ForFamily(ModelFamily.Qwen2Moe).Render([new("user", "Hi!")], addGenerationPrompt: false);

        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n", text);
    }

    [Fact]
    public void Render_Qwen3ChatMLWithoutSystem_AddsNoSystemPrompt()
    {
        var text = ChatTemplates.ForFamily(ModelFamily.Qwen3Moe).Render([new("user", "Hi!")]);

        Assert.Equal("<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void Render_MixtralInst_FoldsSystemIntoFirstUserTurn()
    {
        var text = ChatTemplates.ForFamily(ModelFamily.Mixtral).Render(Conversation);

        Assert.Equal("<s>[INST] Be brief.\n\nHi! [/INST] Hello.</s>[INST] What is 2+2? [/INST]", text);
    }

    [Fact]
    public void Render_MixtralInstWithoutSystem_StartsWithBosAndInst()
    {
        var text = ChatTemplates.ForFamily(ModelFamily.Mixtral).Render([new("user", "Hi!")]);

        Assert.Equal("<s>[INST] Hi! [/INST]", text);
    }

    [Theory]
    [InlineData("assistant", "user")]
    [InlineData("user", "user")]
    public void Render_MixtralInstRolesNotAlternating_ThrowsNamingTheMessage(string first, string second)
    {
        var template = ChatTemplates.ForFamily(ModelFamily.Mixtral);

        var error = Assert.Throws<ArgumentException>(() => template.Render([new(first, "a"), new(second, "b")]));

        Assert.Contains("roles must alternate user/assistant", error.Message);
    }

    [Fact]
    public void Render_UnknownRole_ThrowsListingSupportedRoles()
    {
        var error = Assert.Throws<ArgumentException>(() => ChatTemplates.ForFamily(ModelFamily.Qwen3Moe).Render([new("robot", "beep")]));

        Assert.Contains("message 0 has role \"robot\"", error.Message);
        Assert.Contains("system, user, assistant, tool", error.Message);
    }

    [Fact]
    public void Render_EmptyConversation_Throws()
    {
        Assert.Throws<ArgumentException>(() => ChatTemplates.ForFamily(ModelFamily.Mixtral).Render([]));
    }
}
