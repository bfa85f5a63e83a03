using System.ComponentModel.DataAnnotations;

namespace CaptionDaemon.Scheduling;

/// <summary>
/// <see cref="RangeAttribute"/> whose <see cref="ValidationAttribute.ErrorMessage"/> is kept by the options validation
/// source generator. The generator swaps a plain <c>[Range]</c> for a copy that ignores the error message
/// (dotnet/runtime#123137), so the start-up error would name the property instead of the configuration key.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SettingRangeAttribute : RangeAttribute
{
    public SettingRangeAttribute(int minimum, int maximum)
        : base(minimum, maximum)
    {
    }

    public SettingRangeAttribute(double minimum, double maximum)
        : base(minimum, maximum)
    {
    }
}
