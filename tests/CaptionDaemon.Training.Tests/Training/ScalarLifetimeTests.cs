using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Training;

/// <summary>
/// Training code must not hand libtorch a Scalar that the garbage collector may finalise during the call (see
/// <see cref="HeldScalars"/>). The race is rare in a run, so the tests force it: another thread collects garbage and
/// runs finalisers without pause while the steps run. With TorchSharp's own AdamW or BatchNorm, or one 'a + b' left in
/// the model, they crash in c10 (Scalar::toFloat, "Unknown scalar type") within a few hundred steps.
/// </summary>
public sealed class ScalarLifetimeTests
{
    private const int Steps = 200;

    [Fact]
    public void TrainingSteps_WithGarbageCollectionsRunningAllTheTime_DoNotCrash()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(21);
        using var model = new CaptionModel(TinyModels.Config(vocabSize: 8));
        using var encoderKd = new ContrastiveEncoderDistillation(8, 6, 8);
        using var optimizer = new HeldScalarAdamW(model.parameters().Concat(encoderKd.parameters()), 1e-3, weightDecay: 0.01);
        var audio = TinyModels.SinesAndNoise(2 * 8000, 3, 440, 2000);
        var batch = CaptionBatch.Create(audio, 2, [(0, [4, 5]), (1, [6, 7])]);
        using var teacherEmbeddings = randn(2, 6);
        using var topIds = randint(8, [2, 3, 2]);
        using var topProbabilities = rand(2, 3, 2);

        var collections = WhileCollectingGarbage(() =>
        {
            for (var i = 0; i < Steps; i++)
            {
                using var stepScope = NewDisposeScope();
                var result = SupervisedStep.Run(model, optimizer, batch, 0.1, 1);
                Assert.True(result.Applied, $"step {i} was skipped (loss {result.Loss})");

                optimizer.zero_grad();
                var (memory, embedding) = model.Encode(tensor(audio, [2, 8000]));
                var logits = model.Decoder.forward(tensor(new long[] { 1, 4, 5, 1, 6, 7 }, [2, 3]), memory);
                var kd = DistillationStep.TokenLoss(logits, topIds, topProbabilities).Plus(encoderKd.forward(embedding, teacherEmbeddings));
                Assert.True(GuardedUpdate.Apply(optimizer, kd, optimizer.parameters(), 1).Applied, $"KD step {i} was skipped");
                if (i % 20 == 0)
                {
                    model.GreedyDecode(tensor(audio, [2, 8000]), 4);
                    model.train();
                }
            }
        });

        Assert.True(collections > 10, $"only {collections} collections ran during the steps");
    }

    [Fact]
    public void BatchNormInTraining_ManyCallsWithGarbageCollectionsRunningAllTheTime_DoNotCrash()
    {
        // The training steps above call BatchNorm a few thousand times; a reproduction run died in its batch counter
        // after about a million ("For integral input tensors, argument alpha must not be a floating point number": the
        // counter's freed alpha reused by a float). Tiny inputs make the calls cheap enough to run many.
        const int Calls = 20_000;
        using var scope = NewDisposeScope();
        using var norm = nn.BatchNorm1d(2);
        norm.train();
        using var input = randn(3, 2, 4);
        var collections = WhileCollectingGarbage(() =>
        {
            for (var i = 0; i < Calls; i++)
            {
                using var callScope = NewDisposeScope();
                HeldScalars.BatchNorm(norm, input);
            }
        });

        Assert.Equal(Calls, norm.num_batches_tracked!.item<long>());
        Assert.True(collections > 10, $"only {collections} collections ran during the calls");
    }

    [Fact]
    public void HeldScalarAdamW_MatchesTorchSharpsAdamW()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        var initial = randn(3, 4);
        var ours = initial.clone().requires_grad_(true);
        var theirs = initial.clone().requires_grad_(true);
        using var held = new HeldScalarAdamW([new TorchSharp.Modules.Parameter(ours)], 0.05, weightDecay: 0.1);
        using var reference = optim.AdamW([new TorchSharp.Modules.Parameter(theirs)], 0.05, weight_decay: 0.1);
        var parameterOurs = held.parameters().Single();
        var parameterTheirs = reference.parameters().Single();

        for (var step = 0; step < 5; step++)
        {
            var target = randn(3, 4);
            foreach (var (optimizer, parameter) in new (optim.Optimizer, Tensor)[] { (held, parameterOurs), (reference, parameterTheirs) })
            {
                optimizer.zero_grad();
                (parameter - target).square().sum().backward();
                optimizer.step();
            }

            Assert.True(parameterOurs.allclose(parameterTheirs, rtol: 1e-5, atol: 1e-6), $"step {step}: {(parameterOurs - parameterTheirs).abs().max().item<float>()}");
        }

        Assert.False(parameterOurs.allclose(initial), "the optimiser did not move the parameter");
    }

    /// <summary>
    /// Runs <paramref name="work"/> while another thread collects garbage and runs finalisers; returns how many collections ran.
    /// Generation 0 only: a dropped Scalar is a young object, so that is where it is found and finalised, and a gen-0
    /// collection costs the same in a test process that has built a large heap; full collections made these tests take
    /// 4-9 minutes inside the suite (21 s alone). Either test still fails within seconds with TorchSharp's own AdamW or
    /// BatchNorm put back.
    /// </summary>
    private static int WhileCollectingGarbage(Action work)
    {
        using var stop = new CancellationTokenSource();
        var collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        })
        { IsBackground = true };
        collector.Start();
        try
        {
            work();
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }

        return collections;
    }
}
