{ echo.pas - a libsock server and client in one Free Pascal / Delphi program.

  The server listens on a free port with length-prefixed framing; the client sends three
  messages back to back, and they arrive as three messages (no "sticky packets"). The server
  answers each in upper case; the client reads the answers with a timeout. Exits by itself.

  fpc -Mdelphi -Fu../ -Fl<dir of libsock.so> echo.pas && LD_LIBRARY_PATH=<dir> ./echo }
program echo;

{$IFDEF FPC}{$MODE DELPHI}{$ENDIF}
{$IFDEF MSWINDOWS}{$APPTYPE CONSOLE}{$ENDIF}

uses
  SysUtils, libsock;

const
  Messages: array[0..2] of UTF8String = ('hello', 'sticky packets are gone', '');

var
  Server: TLsListener;
  Client, Peer: TLsConnection;
  I: Int32;
  Msg: UTF8String;
begin
  Server := TLsListener.Listen('127.0.0.1:0');
  try
    Server.SetFramingLength(4);            { 4-byte big-endian length before each message }
    Client := TLsConnection.Connect(Server.LocalAddress, 5000);
    Peer := Server.Accept(5000);           { accepted connections inherit the framing }
    try
      Client.SetFramingLength(4);
      Client.Timeout := 5000;              { no call waits more than 5 s }
      for I := 0 to High(Messages) do
        Client.SendMsg(Messages[I]);       { three messages in a row }
      for I := 0 to High(Messages) do
      begin
        Msg := Peer.RecvMsgStr(5000);      { one whole message per call }
        Peer.SendMsg(UTF8String(UpperCase(string(Msg))));
      end;
      for I := 0 to High(Messages) do
        WriteLn('got ', string(Client.RecvMsgStr), ' (', Length(Messages[I]), ' bytes sent)');
      try
        Client.RecvMsg(200);
      except
        on E: ELsTimeout do
          WriteLn('no more messages: ', E.Message);
      end;
    finally
      Peer.Free;
      Client.Free;
    end;
  finally
    Server.Free;
  end;
  WriteLn('echo: ok');
end.
