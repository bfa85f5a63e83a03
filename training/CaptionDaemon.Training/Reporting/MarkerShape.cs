namespace CaptionDaemon.Training.Reporting;

/// <summary>Filled point markers; series differ by shape as well as colour so a grey print still tells them apart.</summary>
internal enum MarkerShape
{
    Circle,
    Square,
    Diamond,
    Triangle,
}
