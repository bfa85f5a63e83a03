// The trainer's tests run one class at a time. libtorch state is process-wide (the global random generator, and
// TorchSharp's Scalars and dispose scopes), and clean-clone CI runs failed now and then inside TorchSharp itself
// ("Unknown scalar type" in x.square(), a garbage Scalar in Adam's add_) only while other torch test classes ran
// alongside. Serial runs cost about half a minute more.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
