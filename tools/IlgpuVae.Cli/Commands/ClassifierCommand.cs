using System.CommandLine;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>classifier</c>: groups <c>classifier train</c> and <c>classifier evaluate</c>.</summary>
public static class ClassifierCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Group("classifier",
        "an MNIST digit classifier (MLP, softmax cross-entropy): 'classifier train' or 'classifier evaluate --model FILE'",
        "say 'classifier train' or 'classifier evaluate'",
        ClassifierTrainCommand.Create(cli),
        ClassifierEvaluateCommand.Create(cli));
}
