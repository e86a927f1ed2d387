namespace IlgpuVae.Models;

/// <summary>
/// Progress of a long measurement (<see cref="Training.ModelAssessment.Run"/>, <see cref="Models.VaeModel.EstimateLogLikelihood"/>,
/// <see cref="Classification.Classifier.Agreement"/>): which part runs, and how far it is.
/// </summary>
/// <param name="Part">The part: "elbo", "log_likelihood", "encode", "clustering" or "agreement".</param>
/// <param name="Done">Units of the part done (batches, or classes for the agreement).</param>
/// <param name="Total">Units in the part.</param>
public readonly record struct WorkProgress(string Part, int Done, int Total);
