{ Interop peer: a Free Pascal / Delphi client on libsock.pas.
  Usage: pascal_client PORT COUNT SEED
  Connects to 127.0.0.1:PORT, sends COUNT 4-byte big-endian length-prefixed messages of random
  sizes 0-64 KiB, checks each echo byte for byte, then prints
  "client: N messages, fnv=HEX" (FNV-1a 64 over every payload byte sent) and exits 0;
  any mismatch or error exits 1. }
program pascal_client;

{$IFDEF FPC}{$MODE DELPHI}{$Q-}{$R-}{$ENDIF}

uses
  SysUtils, libsock;

var
  Conn: TLsConnection;
  Msg, Back: TBytes;
  I, J, Count, Size: Int32;
  Fnv: UInt64;
begin
  Count := StrToInt(ParamStr(2));
  RandSeed := StrToInt(ParamStr(3));
  Fnv := UInt64($cbf29ce484222325);
  try
    Conn := TLsConnection.Connect('127.0.0.1:' + ParamStr(1), 10000);
    try
      Conn.Timeout := 30000;
      Conn.SetFramingLength(4, True, 16 shl 20);
      for I := 0 to Count - 1 do
      begin
        Size := Random(65537);
        SetLength(Msg, Size);
        for J := 0 to Size - 1 do
          Msg[J] := Random(256);
        Conn.SendMsg(Msg);
        Back := Conn.RecvMsg;
        if (Length(Back) <> Size) or ((Size > 0) and not CompareMem(@Msg[0], @Back[0], Size)) then
        begin
          WriteLn(ErrOutput, 'client: echo ', I, ' differs (', Size, ' sent, ', Length(Back), ' back)');
          Halt(1);
        end;
        for J := 0 to Size - 1 do
        begin
          Fnv := Fnv xor Msg[J];
          Fnv := Fnv * UInt64($100000001b3);
        end;
      end;
    finally
      Conn.Free;
    end;
  except
    on E: Exception do
    begin
      WriteLn(ErrOutput, 'client: ', E.ClassName, ': ', E.Message);
      Halt(1);
    end;
  end;
  WriteLn('client: ', Count, ' messages, fnv=', LowerCase(IntToHex(Int64(Fnv), 16)));
end.
