namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>Outcome codes carried in a reply frame.</summary>
public enum KvSocketStatus : ushort
{
    Ok = 0,
    UnknownHandle = 1,
    WrongState = 2,
    LengthMismatch = 3,
    ChecksumMismatch = 4,
    Truncated = 5,
    BadRequest = 6,
    Busy = 7,
}
